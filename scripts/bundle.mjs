#!/usr/bin/env node
// Bundles the `encsup` executable (src/cli/bin.ts) into dist/bin/ with esbuild, as `npm run build`
// does after tsc. Node reads one file per chunk instead of some 250 ES modules (zod's alone are
// 95), each resolved, read and compiled on its own: a daemon's start took a third less for it.
// Every command still loads only what it uses: each dynamic import is a chunk of its own.
// `node scripts/bundle.mjs [outdir]` (dist/bin by default; the tests bundle into a folder of theirs).
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(process.argv[2] ?? join(root, 'dist', 'bin'));

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { encsup: join(root, 'src', 'cli', 'bin.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // For `node --enable-source-maps`: stack traces that name the sources.
  sourcemap: 'linked',
  external: [
    // Native modules, loaded from node_modules as they are.
    'node-pty',
    // Optional natives that their packages try to load and do without.
    'pg-native',
    'bufferutil',
    'utf-8-validate',
    'fsevents',
  ],
  // The CommonJS packages in the bundle (pg, prom-client, nedb, commander) require Node's own
  // modules; an ES module has no `require` of its own to hand them.
  banner: { js: "import { createRequire as encsupCreateRequire } from 'node:module'; const require = encsupCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
if (result.errors.length > 0 || result.warnings.length > 0) process.exit(1);
chmodSync(join(outdir, 'encsup.js'), 0o755);
