// A real daemon for a benchmark: in this process, real store file, real pty runner, quiet logs.
import { type ConfigFlags, resolveConfig } from '../src/config.js';
import { type Daemon, startDaemon } from '../src/daemon.js';
import { createDefaultDeps } from '../src/deps.js';
import { silentLogger } from '../src/logger.js';

export function benchDaemon(dataDir: string, flags: ConfigFlags = {}): Promise<Daemon> {
  return startDaemon(resolveConfig({ port: 0, ...flags, dataDir }, {}), createDefaultDeps({ logger: silentLogger }));
}
