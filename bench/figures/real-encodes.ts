// 1. Real encodes: N ffmpeg encodes of a generated clip at concurrency 2 through the daemon, and the
// same commands through `xargs -P 2`: wall time, and the daemon's own CPU next to the encoders'.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { isFinished } from '../../machines/job-record.js';
import { mediaToolPath } from '../../src/media/binaries.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, cpuSeconds, elapsed, figure } from '../lib.js';

export async function realEncodes(quick: boolean, dir: string): Promise<Figure[]> {
  const ffmpeg = mediaToolPath('ffmpeg');
  const count = quick ? 4 : 8;
  const clip = join(dir, 'source.mp4');
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${quick ? 4 : 8}:size=640x360:rate=24`, '-c:v', 'libx264', '-preset', 'ultrafast', clip]);
  const command = (i: number, tag: string) => [ffmpeg, '-hide_banner', '-y', '-i', clip, '-c:v', 'libx264', '-preset', 'medium', '-threads', '1', join(dir, `${tag}${i}.mp4`)];

  const daemon = await benchDaemon(join(dir, 'encodes-data'), { maxConcurrent: 2 });
  const cpuBefore = cpuSeconds();
  const start = performance.now();
  const ids = [];
  for (let i = 0; i < count; i++) ids.push((await daemon.requests.submit({ command: command(i, 'd') })).id);
  for (const id of ids) await daemon.ledger.waitFor(id, (job) => isFinished(job.status), 600_000);
  const daemonWall = elapsed(start);
  const cpuAfter = cpuSeconds();
  await daemon.close();

  const xargsStart = performance.now();
  await new Promise<void>((resolve, reject) => {
    const xargs = spawn('xargs', ['-P', '2', '-d', '\n', '-I', '{}', 'sh', '-c', '{}'], { stdio: ['pipe', 'ignore', 'ignore'] });
    xargs.stdin.end(Array.from({ length: count }, (_, i) => command(i, 'x').map((arg) => `'${arg}'`).join(' ')).join('\n'));
    xargs.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`xargs exited ${code}`))));
  });
  const xargsWall = elapsed(xargsStart);

  const daemonCpu = cpuAfter.self - cpuBefore.self;
  const encoderCpu = cpuAfter.children - cpuBefore.children;
  return [
    figure(`${count} real encodes, wall time`, daemonWall, 's', xargsWall, 'xargs -P 2, same commands'),
    figure('daemon CPU as % of encoder CPU', (daemonCpu / encoderCpu) * 100, '%', 100, 'the encoders themselves (100 %)'),
  ];
}
