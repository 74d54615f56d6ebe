// 11. An idle daemon's CPU: what it costs a box to have it running with nothing to do (its timers,
// the metrics' event-loop sampling), next to a bare Node HTTP server with prom-client's default
// metrics (which sample the event loop every 10 ms) idling as long, measured over
// the same seconds from the scheduler's count of each thread once both have settled after their start.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startDaemonProcess } from '../daemon-process.js';
import { type Figure, figure, processCpuPrecise } from '../lib.js';

const SETTLE_MS = 10_000;
// What a Node service with Prometheus metrics costs idle when set up the usual way.
const BASELINE = "require('prom-client').collectDefaultMetrics(); require('node:http').createServer().listen(0, '127.0.0.1')";

export async function idleCpu(quick: boolean, dir: string): Promise<Figure[]> {
  const windowMs = quick ? 10_000 : 20_000;
  const daemon = await startDaemonProcess(join(dir, 'idle-data'));
  const server = spawn(process.execPath, ['-e', BASELINE], { stdio: 'ignore', cwd: new URL('../..', import.meta.url).pathname });
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const before = { daemon: processCpuPrecise(daemon.pid), server: processCpuPrecise(server.pid!) };
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const daemonMsPerSecond = ((processCpuPrecise(daemon.pid) - before.daemon) * 1000) / (windowMs / 1000);
    const serverMsPerSecond = ((processCpuPrecise(server.pid!) - before.server) * 1000) / (windowMs / 1000);
    return [figure(`idle daemon CPU (${windowMs / 1000} s with nothing to do)`, daemonMsPerSecond, 'ms/s', serverMsPerSecond, "a bare Node HTTP server with prom-client's default metrics, idle as long")];
  } finally {
    server.kill();
    await daemon.stop();
  }
}
