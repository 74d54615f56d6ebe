#!/usr/bin/env node
// Builds native/posix-spawn.c (npm runs this at install). Optional: where it cannot be built (no
// compiler, not Linux, glibc older than 2.34), jobs on pipes start through child_process.spawn,
// as before, only slower; the daemon says which at start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (process.platform !== 'linux') process.exit(0);
// npm hands its own node-gyp to the scripts it runs; outside npm, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp && existsSync(gyp) ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const built = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (built.status !== 0) {
  const why = built.error ? built.error.message : (built.stderr ?? '').trim().split('\n').slice(-3).join('\n');
  console.warn(`encsup: the posix_spawn launcher was not built; jobs on pipes will start through child_process.spawn (slower).\n${why}`);
}
