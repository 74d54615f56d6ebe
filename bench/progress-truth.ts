// `npm run bench:progress`: the progress a real daemon reports, sampled while real encodes and
// scripts run, against ground truth read independently of it:
//  - ffmpeg: the encoder's own frame counter, read from the job's log as it is written, against the
//    frames the output really holds (ffprobe, after the run); for several passes, each pass weighed
//    by how long it really took;
//  - scripts: the fraction the script itself writes to a side file.
// Per case: samples, max and median percent error (points), the ETA's median error from 10 % on
// (seconds, and as a share of the run), whether it ever said 100 early, and the same percent error
// for what the encoder's output alone says (the frame counter over the whole first input: what
// encsup read before). The last rows: waiting jobs' forecasts against when they then started and
// ended. A markdown table on standard output, and the results as JSON in the system's temporary
// folder; bench/progress-results.json (what the README quotes) only with --update-reference.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Job } from '../machines/job-record.js';
import { ApiClient } from '../src/api/client.js';
import type { Daemon } from '../src/daemon.js';
import type { JobView } from '../src/forecast/job-view.js';
import { mediaToolPath } from '../src/media/binaries.js';
import { benchDaemon } from './daemon.js';

const FFMPEG = mediaToolPath('ffmpeg');
const FFPROBE = mediaToolPath('ffprobe');
const PYTHON = '/usr/bin/python3';

interface Truth {
  /** 0-1 of the job's work at this sample; null when nothing can know it (a pipe). */
  now(atMs: number): number | null;
  /** What the encoder's output alone would say (its frame counter over the first input's frames). */
  naive(): number | null;
  /** Called once the job is done, before the samples are scored. */
  settle(samples: Sample[]): void;
}

interface Sample {
  atMs: number;
  job: Job;
  truth: number | null;
  naive: number | null;
}

interface CaseResult {
  case: string;
  samples: number;
  maxError: number | null;
  medianError: number | null;
  naiveMedianError: number | null;
  etaMedianErrorSeconds: number | null;
  etaMedianErrorPctOfRun: number | null;
  etaPresentFrom10: number | null;
  early100: boolean;
  unknownShare: number;
  runSeconds: number;
}

const median = (values: number[]) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round = (value: number | null, digits = 1) => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);

function clip(dir: string, name: string, seconds: number, format = 'mp4'): string {
  const path = join(dir, `${name}.${format}`);
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=320x240:rate=24`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path]);
  return path;
}

function outputFrames(path: string): number {
  const text = execFileSync(FFPROBE, ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  return Number(text.trim());
}

/** The ffmpeg runs in a job's log: how many have begun, and the last frame counter of the latest. */
function ffmpegLogState(log: string): { run: number; frame: number } {
  const runs = log.split(/^Input #0/m);
  const latest = runs.at(-1) ?? '';
  const frames = [...latest.matchAll(/frame=\s*(\d+)/g)];
  return { run: Math.max(1, runs.length - 1), frame: frames.length ? Number(frames.at(-1)![1]) : 0 };
}

/** Truth for ffmpeg jobs: frames done over the output's frames, passes weighed by their real length. */
function ffmpegTruth(logPath: string, output: string, passes: number, naiveTotalFrames: number): Truth {
  const read = () => (existsSync(logPath) ? ffmpegLogState(readFileSync(logPath, 'utf8')) : { run: 1, frame: 0 });
  let total = 0;
  const passStarts: number[] = [];
  const states = new Map<number, { run: number; frame: number }>();
  return {
    now(atMs) {
      // Kept per sample, scored once the output's frames and the passes' lengths are known.
      states.set(atMs, read());
      return 0;
    },
    naive() {
      // What encsup read before: the frame counter over the whole first input, a run's own 0-100.
      return Math.min(1, read().frame / naiveTotalFrames);
    },
    settle(samples) {
      total = outputFrames(output);
      samples.forEach((sample) => {
        const state = states.get(sample.atMs)!;
        if (passStarts[state.run - 1] === undefined) passStarts[state.run - 1] = sample.atMs;
      });
      const end = samples.at(-1)!.atMs;
      const lengths = Array.from({ length: passes }, (_, pass) => (passStarts[pass + 1] ?? end) - (passStarts[pass] ?? end));
      const whole = lengths.reduce((sum, each) => sum + each, 0) || 1;
      samples.forEach((sample) => {
        const state = states.get(sample.atMs)!;
        const before = lengths.slice(0, state.run - 1).reduce((sum, each) => sum + each, 0) / whole;
        sample.truth = before + (lengths[state.run - 1]! / whole) * Math.min(1, state.frame / total);
      });
    },
  };
}

/** Truth for scripts: the fraction they write to a side file themselves. */
function fileTruth(path: string): Truth {
  const read = () => (existsSync(path) ? Number(readFileSync(path, 'utf8').trim().split('\n').at(-1) || 0) : 0);
  return { now: read, naive: () => null, settle: () => undefined };
}

const noTruth: Truth = { now: () => null, naive: () => null, settle: () => undefined };

async function runCase(daemon: Daemon, name: string, body: Record<string, unknown>, truthOf: (job: Job) => Truth): Promise<CaseResult> {
  const api = new ApiClient(daemon.url, daemon.token);
  const submitted = await api.submit(body);
  const truth = truthOf(submitted);
  const samples: Sample[] = [];
  let ended: Job | null = null;
  while (ended === null) {
    const atMs = Date.now();
    const job = await api.get(submitted.id);
    if (job.status === 'encoding') samples.push({ atMs, job, truth: truth.now(atMs), naive: truth.naive() });
    if (job.status === 'done' || job.status === 'failed' || job.status === 'cancelled') ended = job;
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (ended.status !== 'done') throw new Error(`${name}: ${ended.error}\n${ended.logTail.join('\n')}`);
  const working = samples.filter((sample) => sample.job.frame !== null || sample.job.progress !== null);
  truth.settle(working);
  const endMs = Date.parse(ended.finishedAt!);
  const runSeconds = (endMs - (working[0]?.atMs ?? endMs)) / 1000;
  const scored = working.filter((sample) => sample.truth !== null);
  const errors = scored.map((sample) => Math.abs((sample.job.progress ?? 0) - sample.truth! * 100));
  const naiveErrors = scored.filter((sample) => sample.naive !== null).map((sample) => Math.abs(sample.naive! * 100 - sample.truth! * 100));
  const fromTen = working.filter((sample) => (sample.job.progress ?? 0) >= 10 && (sample.job.progress ?? 0) < 100);
  const etaErrors = fromTen.filter((sample) => sample.job.etaSeconds !== null).map((sample) => Math.abs(sample.job.etaSeconds! - (endMs - sample.atMs) / 1000));
  return {
    case: name,
    samples: working.length,
    maxError: round(errors.length ? Math.max(...errors) : null),
    medianError: round(median(errors)),
    naiveMedianError: round(median(naiveErrors)),
    etaMedianErrorSeconds: round(median(etaErrors)),
    etaMedianErrorPctOfRun: round(median(etaErrors.map((error) => (error / Math.max(runSeconds, 0.1)) * 100))),
    etaPresentFrom10: fromTen.length ? round((etaErrors.length / fromTen.length) * 100, 0) : null,
    // 100 before the encoder's last report: the frame (or steps) still moved after.
    early100: working.some((sample, index) => sample.job.progress === 100 && working.slice(index + 1).some((later) => later.job.frame !== sample.job.frame)),
    unknownShare: round((working.filter((sample) => sample.job.progress === null).length / Math.max(1, working.length)) * 100, 0)!,
    runSeconds: round(runSeconds)!,
  };
}

async function progressCases(dir: string, quick: boolean): Promise<CaseResult[]> {
  const seconds = quick ? 4 : 8;
  const input = clip(dir, 'input', seconds);
  const second = clip(dir, 'second', seconds / 2);
  const daemon = await benchDaemon(join(dir, 'progress-data'), { maxConcurrent: 1 });
  const logOf = (job: Job) => join(dir, 'progress-data', 'logs', `${job.id}.log`);
  const framesOf = (length: number) => length * 24;
  const ffmpeg = (...args: string[]) => [FFMPEG, '-hide_banner', '-y', '-re', ...args];
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
  const results: CaseResult[] = [];
  try {
    const out = (name: string) => join(dir, `${name}.mp4`);
    results.push(await runCase(daemon, 'one pass (control)', { command: ffmpeg('-i', input, ...x264, out('one')) }, (job) => ffmpegTruth(logOf(job), out('one'), 1, framesOf(seconds))));
    const pass = (n: number, target: string) => [...ffmpeg('-i', input, ...x264, '-b:v', '300k', '-pass', String(n), '-passlogfile', join(dir, 'x264pass')), ...(n === 1 ? ['-an', '-f', 'null', '/dev/null'] : [target])].join(' ');
    const twoPass = { command: `${pass(1, '')} && ${pass(2, out('two'))}`, shell: true };
    results.push(await runCase(daemon, 'two-pass shell line, first of its kind', twoPass, (job) => ffmpegTruth(logOf(job), out('two'), 2, framesOf(seconds))));
    // The second run knows how long the first pass took last time (here, as long as the second).
    results.push(await runCase(daemon, 'two-pass shell line, pass share learned', twoPass, (job) => ffmpegTruth(logOf(job), out('two'), 2, framesOf(seconds))));
    results.push(await runCase(daemon, 'trim (-ss/-t on the input)', { command: ffmpeg('-ss', '1', '-t', String(seconds / 2), '-i', input, ...x264, out('trim')) }, (job) => ffmpegTruth(logOf(job), out('trim'), 1, framesOf(seconds))));
    results.push(await runCase(daemon, 'trim (-ss/-t on the output)', { command: ffmpeg('-i', input, '-ss', '1', '-t', String(seconds / 2), ...x264, out('trim-out')) }, (job) => ffmpegTruth(logOf(job), out('trim-out'), 1, framesOf(seconds))));
    results.push(await runCase(daemon, 'setpts=0.5*PTS', { command: ffmpeg('-i', input, '-vf', 'setpts=0.5*PTS', ...x264, out('setpts')) }, (job) => ffmpegTruth(logOf(job), out('setpts'), 1, framesOf(seconds))));
    results.push(await runCase(daemon, '-r 12 (output frame rate)', { command: ffmpeg('-i', input, '-r', '12', ...x264, out('rate')) }, (job) => ffmpegTruth(logOf(job), out('rate'), 1, framesOf(seconds))));
    results.push(await runCase(daemon, 'concat of two inputs', { command: ffmpeg('-i', input, '-re', '-i', second, '-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0[v]', '-map', '[v]', ...x264, out('concat')) }, (job) => ffmpegTruth(logOf(job), out('concat'), 1, framesOf(seconds))));
    results.push(await runCase(daemon, '-stats_period 2', { command: ffmpeg('-stats_period', '2', '-i', input, ...x264, out('stats')) }, (job) => ffmpegTruth(logOf(job), out('stats'), 1, framesOf(seconds))));
    const ts = clip(dir, 'piped', seconds, 'ts');
    results.push(await runCase(daemon, 'mpegts from a pipe (total unknown)', { command: `cat ${ts} | ${ffmpeg('-f', 'mpegts', '-i', '-', ...x264, out('pipe')).join(' ')}`, shell: true }, () => noTruth));
    const steps = quick ? 40 : 80;
    const counter = join(dir, 'counter-truth');
    writeFileSync(join(dir, 'counter.sh'), `for i in $(seq 1 ${steps}); do sleep 0.05; echo "Processing $i/${steps}"; awk "BEGIN { print $i / ${steps} }" >> ${counter}; done\n`);
    results.push(await runCase(daemon, 'generic counter (Processing i/N)', { command: ['sh', join(dir, 'counter.sh')] }, () => fileTruth(counter)));
    if (existsSync(PYTHON) && execFileSync(PYTHON, ['-c', 'import importlib.util as u; print(bool(u.find_spec("tqdm")))'], { encoding: 'utf8' }).trim() === 'True') {
      const nested = join(dir, 'nested-truth');
      writeFileSync(
        join(dir, 'nested.py'),
        `import time, sys\nfrom tqdm import tqdm\nlog = open(${JSON.stringify(nested)}, 'w')\nfor i in tqdm(range(10), desc='items', position=0, file=sys.stdout):\n    for j in tqdm(range(40), desc='steps', position=1, leave=False, file=sys.stdout):\n        time.sleep(${quick ? 0.008 : 0.016})\n        log.write(str((i * 40 + j + 1) / 400) + chr(10)); log.flush()\n`,
      );
      results.push(await runCase(daemon, 'nested tqdm (10 items × 40 steps)', { command: [PYTHON, join(dir, 'nested.py')] }, () => fileTruth(nested)));
      const fast = join(dir, 'fast-truth');
      writeFileSync(join(dir, 'fast.py'), `import time, sys\nfrom tqdm import tqdm\nlog = open(${JSON.stringify(fast)}, 'w')\nfor i in tqdm(range(2000), file=sys.stdout, mininterval=0):\n    time.sleep(${quick ? 0.002 : 0.004})\n    log.write(str((i + 1) / 2000) + chr(10)); log.flush()\n`);
      results.push(await runCase(daemon, 'fast printer (tqdm, every step)', { command: [PYTHON, join(dir, 'fast.py')] }, () => fileTruth(fast)));
    }
  } finally {
    await daemon.close();
  }
  return results;
}

interface ForecastResult {
  jobs: number;
  expectedRunMedianErrorPct: number | null;
  startMedianErrorSeconds: number | null;
  finishMedianErrorSeconds: number | null;
  medianRunSeconds: number | null;
}

/** Waiting jobs' forecasts, read once all are queued, against when they then started and ended. */
async function forecastCase(dir: string, quick: boolean): Promise<ForecastResult> {
  const input = clip(dir, 'forecast-input', 3);
  const daemon = await benchDaemon(join(dir, 'forecast-data'), { maxConcurrent: 1 });
  const api = new ApiClient(daemon.url, daemon.token);
  const command = (n: number) => [FFMPEG, '-hide_banner', '-y', '-re', '-i', input, '-c:v', 'libx264', '-preset', 'ultrafast', join(dir, `forecast${n}.mp4`)];
  const waitDone = async (id: string) => {
    for (;;) {
      const job = await api.get(id);
      if (job.status === 'done' || job.status === 'failed') return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    for (let n = 0; n < 2; n++) await waitDone((await api.submit({ command: command(n) })).id);
    const ids: string[] = [];
    for (let n = 2; n < (quick ? 5 : 7); n++) ids.push((await api.submit({ command: command(n) })).id);
    // Forecasts as the operator sees them once the line is probed.
    let views: JobView[] = [];
    for (let tries = 0; tries < 100; tries++) {
      views = (await api.list()).filter((job) => ids.includes(job.id));
      if (views.filter((job) => job.status === 'queued').every((job) => job.forecast?.expectedRunSeconds != null)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const predicted = new Map(views.map((job) => [job.id, job.forecast]));
    const ended = await Promise.all(ids.map(waitDone));
    const waited = ended.filter((job) => predicted.get(job.id)?.expectedRunSeconds != null && views.find((view) => view.id === job.id)!.status === 'queued');
    const runErrors = waited.map((job) => (Math.abs(predicted.get(job.id)!.expectedRunSeconds! - job.runSeconds!) / job.runSeconds!) * 100);
    const startErrors = waited.filter((job) => predicted.get(job.id)!.startsAt).map((job) => Math.abs(Date.parse(predicted.get(job.id)!.startsAt!) - Date.parse(job.startedAt!)) / 1000);
    const finishErrors = waited.filter((job) => predicted.get(job.id)!.finishesAt).map((job) => Math.abs(Date.parse(predicted.get(job.id)!.finishesAt!) - Date.parse(job.finishedAt!)) / 1000);
    return {
      jobs: waited.length,
      expectedRunMedianErrorPct: round(median(runErrors)),
      startMedianErrorSeconds: round(median(startErrors)),
      finishMedianErrorSeconds: round(median(finishErrors)),
      medianRunSeconds: round(median(ended.map((job) => job.runSeconds!))),
    };
  } finally {
    await daemon.close();
  }
}

const quick = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'encsup-progress-'));
try {
  const cases = await progressCases(dir, quick);
  const forecast = await forecastCase(dir, quick);
  const show = (value: number | null, unit = '') => (value === null ? '–' : `${value}${unit}`);
  console.log(`\nprogress against ground truth${quick ? ' (--quick)' : ''}\n`);
  console.log('| case | samples | max % error | median % error | encoder output alone, median % error | ETA median error from 10 % | ETA present from 10 % | 100 too early | unknown |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of cases) {
    console.log(`| ${r.case} | ${r.samples} | ${show(r.maxError)} | ${show(r.medianError)} | ${show(r.naiveMedianError)} | ${show(r.etaMedianErrorSeconds, ' s')} (${show(r.etaMedianErrorPctOfRun, ' %')} of ${r.runSeconds} s) | ${show(r.etaPresentFrom10, ' %')} | ${r.early100 ? 'yes' : 'no'} | ${r.unknownShare} % |`);
  }
  console.log(`\nforecasts of ${forecast.jobs} waiting jobs (runs of about ${show(forecast.medianRunSeconds, ' s')}): expected run off by ${show(forecast.expectedRunMedianErrorPct, ' %')}, start by ${show(forecast.startMedianErrorSeconds, ' s')}, end by ${show(forecast.finishMedianErrorSeconds, ' s')} (medians)`);
  const out = join(tmpdir(), 'encsup-bench', `progress-results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ quick, cases, forecast }, null, 2)}\n`);
  console.log(`results in ${out}`);
  if (process.argv.includes('--update-reference')) writeFileSync(new URL('./progress-results.json', import.meta.url), `${JSON.stringify({ quick, cases, forecast }, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
