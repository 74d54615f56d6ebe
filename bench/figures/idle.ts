// 11. An idle daemon's CPU: what it costs a box to have it running with nothing to do (its timers,
// the metrics' event-loop sampling), next to a bare Node HTTP server idling as long, measured over
// the same seconds from /proc once both have settled after their start.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startDaemonProcess } from '../daemon-process.js';
import { type Figure, figure, processCpu } from '../lib.js';

const SETTLE_MS = 10_000;

export async function idleCpu(quick: boolean, dir: string): Promise<Figure[]> {
  const windowMs = quick ? 10_000 : 20_000;
  const daemon = await startDaemonProcess(join(dir, 'idle-data'));
  const server = spawn(process.execPath, ['-e', "require('node:http').createServer().listen(0, '127.0.0.1')"], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const before = { daemon: daemon.cpu().self, server: processCpu(server.pid!).self };
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const daemonMsPerSecond = ((daemon.cpu().self - before.daemon) * 1000) / (windowMs / 1000);
    const serverMsPerSecond = ((processCpu(server.pid!).self - before.server) * 1000) / (windowMs / 1000);
    return [figure(`idle daemon CPU (${windowMs / 1000} s with nothing to do)`, daemonMsPerSecond, 'ms/s', serverMsPerSecond, 'a bare Node HTTP server, idle as long')];
  } finally {
    server.kill();
    await daemon.stop();
  }
}
