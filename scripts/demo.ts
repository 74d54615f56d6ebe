// The quick start's main job: start the daemon, submit two real encodes of a generated clip, and
// show their live progress until both are done. `--keep-running` leaves the daemon up afterwards.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Job } from '../machines/job-record.js';
import { isFinished } from '../machines/job-record.js';
import { resolveConfig } from '../src/config.js';
import { PRIVATE_FOLDER } from '../src/data-folder.js';
import { startDaemon } from '../src/daemon.js';
import { createDefaultDeps } from '../src/deps.js';
import { createLogger } from '../src/logger.js';
import { formatDuration, formatPercent } from '../src/cli/format.js';
import { mediaToolPath } from '../src/media/binaries.js';

const keepRunning = process.argv.includes('--keep-running');
const portAt = process.argv.indexOf('--port');
const port = portAt >= 0 ? process.argv[portAt + 1] : undefined;
const ownFolder = process.env['ENCSUP_DATA_DIR'] === undefined;
const dataDir = resolve(process.env['ENCSUP_DATA_DIR'] ?? '.encsup-demo');
// The demo's own folder starts clean each time: only this run's jobs, none of the last one's.
if (ownFolder) rmSync(dataDir, { recursive: true, force: true });
const workDir = join(dataDir, 'media');
// Private from the start, as the daemon wants its data folder (it would narrow it, and warn).
mkdirSync(workDir, { recursive: true, mode: PRIVATE_FOLDER });

const ffmpeg = mediaToolPath('ffmpeg');
console.log(`ffmpeg: ${ffmpeg}`);
const clip = join(workDir, 'source.mp4');
console.log('making a 20 s 1280x720 test clip to encode...');
execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=20:size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=20', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', clip]);

const deps = createDefaultDeps({ logger: createLogger({ level: 'warn' }) });
const config = resolveConfig({ dataDir, maxConcurrent: 2, ...(port === undefined ? {} : { port }) }, process.env);
// Another daemon may hold the usual port; the demo then takes any free one (not a port you named).
const daemon = await startDaemon(config, deps).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE' || port !== undefined) throw error;
  return startDaemon({ ...config, port: 0 }, deps);
});
console.log(`encsup daemon on ${daemon.url}, data in ${dataDir}`);
if (daemon.loginUrl) console.log(`dashboard (this link logs you in): ${daemon.loginUrl}`);

const encodes = [
  { name: 'demo: x264 medium 720p', args: ['-c:v', 'libx264', '-preset', 'medium', '-crf', '23'], file: 'demo-x264.mp4' },
  { name: 'demo: x264 slow 480p', args: ['-vf', 'scale=854:480', '-c:v', 'libx264', '-preset', 'slow', '-crf', '26'], file: 'demo-480p.mp4' },
];
const ids: string[] = [];
for (const encode of encodes) {
  const output = join(workDir, encode.file);
  const job = await daemon.requests.submit({
    name: encode.name,
    command: [ffmpeg, '-hide_banner', '-y', '-i', clip, ...encode.args, '-c:a', 'aac', output],
    output,
  });
  ids.push(job.id);
  console.log(`submitted ${job.id}  ${encode.name}`);
}

const line = (job: Job) =>
  `${job.id}  ${job.status.padEnd(10)} ${bar(job.progress ?? 0)} ${formatPercent(job.progress).padStart(6)}  ` +
  `frame ${job.frame ?? '-'}/${job.totalFrames ?? '?'}  ${job.fps ?? '-'} fps  ${job.speed ?? '-'}x  ETA ${formatDuration(job.etaSeconds)}`;
const interactive = process.stdout.isTTY;
let drawn = 0;
// Not a terminal (a log, a pipe): a line per job only when its status or whole percent changes.
const printed = new Map<string, string>();
for (;;) {
  const jobs = await Promise.all(ids.map((id) => daemon.requests.get(id)));
  if (interactive) {
    if (drawn > 0) process.stdout.write(`\u001b[${drawn}A`);
    for (const job of jobs) process.stdout.write(`\u001b[2K${line(job)}\n`);
    drawn = jobs.length;
  } else {
    for (const job of jobs) {
      const key = `${job.status}:${Math.floor(job.progress ?? 0)}`;
      if (printed.get(job.id) === key) continue;
      printed.set(job.id, key);
      process.stdout.write(`${line(job)}\n`);
    }
  }
  if (jobs.every((job) => isFinished(job.status))) break;
  await new Promise((done) => setTimeout(done, 500));
}

const finished = await Promise.all(ids.map((id) => daemon.requests.get(id)));
for (const job of finished) console.log(`${job.id} ${job.status}${job.error ? `: ${job.error}` : ''} -> ${job.output} (${formatDuration(job.elapsedSeconds)})`);
if (keepRunning) {
  console.log(`\nthe daemon keeps running on ${daemon.url}; try: npx encsup --url ${daemon.url} --data-dir ${dataDir} list   (Ctrl-C to stop)`);
  await new Promise((done) => process.once('SIGINT', done));
}
await daemon.close();
process.exitCode = finished.every((job) => job.status === 'done') ? 0 : 1;

function bar(percent: number, width = 24): string {
  const full = Math.round((percent / 100) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}
