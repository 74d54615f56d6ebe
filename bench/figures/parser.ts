// 3. Parser: megabytes per second of a long real ffmpeg log (its stats lines repeated with rising
// frame numbers) through the whole progress pipeline, against a bare split of the same bytes into
// lines: as a busy pty delivers it (64 KB reads, where a stats line the next one replaces is not
// parsed), and at worst, one status line per read (every line parsed). Then the status lines of
// other encoders, as they draw them (x264's and HandBrake's redrawn with \r, a tqdm bar, ffmpeg's
// -progress blocks of a dozen key=value lines, SVT-AV1's counter redrawn with backspaces), with
// rising counts. Each measured after a warm-up run, so both sides are compiled code.
import { readFileSync } from 'node:fs';
import { from, lastValueFrom, count as countAll, map } from 'rxjs';
import { splitRecordBatches } from '../../src/progress/lines.js';
import { createParser } from '../../src/progress/parsers/index.js';
import { readProgress, throttleProgress } from '../../src/progress/pipeline.js';
import { type Figure, atLeast, collectGarbage, elapsed, figure } from '../lib.js';

const CHUNK = 64 * 1024;

function makeLog(megabytes: number): string[] {
  const capture = readFileSync(new URL('../../test/fixtures/corpus/ffmpeg-stats.pty.log', import.meta.url), 'utf8');
  const header = capture.slice(0, capture.indexOf('frame='));
  const stats = [...capture.matchAll(/frame=[^\r\n]*\r/g)].map((m) => m[0]);
  let text = header;
  let frame = 0;
  while (text.length < megabytes * 1024 * 1024) {
    for (const line of stats) text += line.replace(/frame=\s*\d+/, `frame=${String((frame += 1)).padStart(5)}`);
  }
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += CHUNK) chunks.push(text.slice(at, at + CHUNK));
  return chunks;
}

export async function parserThroughput(quick: boolean): Promise<Figure[]> {
  const megabytes = quick ? 5 : 50;
  const chunks = makeLog(megabytes);
  const perLine = chunks.join('').split(/(?<=\r)/);
  await measure(makeLog(1));
  await measure(perLine.slice(0, 10_000));
  const [pipeline, split] = await measure(chunks);
  const [lineByLine, lineSplit] = await measure(perLine);
  const others: Figure[] = [];
  for (const [name, drawn] of Object.entries(STATUS_AS_DRAWN)) {
    const log = statusLog(drawn, megabytes);
    await measure(statusLog(drawn, 1));
    const [rate, splitRate] = await measure(log);
    others.push(figure(`parser, ${megabytes} MB of ${name} status lines in 64 KB reads`, rate, 'MB/s', splitRate, 'bare split into lines', atLeast(150, 'MB/s', rate)));
  }
  return [
    figure(`parser, ${megabytes} MB ffmpeg log in 64 KB reads`, pipeline, 'MB/s', split, 'bare split into lines', atLeast(150, 'MB/s', pipeline)),
    figure(`parser, ${megabytes} MB ffmpeg log, one status line per read`, lineByLine, 'MB/s', lineSplit, 'bare split into lines'),
    ...others,
  ];
}

// Status line number `n` of `total` as each encoder draws it (the forms of the captures in
// test/fixtures/corpus), with what comes before the first.
const STATUS_AS_DRAWN: Record<string, { before: string; draw: (n: number, total: number) => string }> = {
  x264: { before: 'x264 [info]: profile High, level 3.0, 4:2:0, 8-bit\n', draw: (n, total) => `[${((n / total) * 100).toFixed(1)}%] ${n}/${total} frames, 157.60 fps, 38.26 kb/s, eta 0:00:${String(n % 60).padStart(2, '0')}  \r` },
  'tqdm bar': { before: 'Loading pipeline components...\n', draw: (n, total) => `\rSampling: ${String(Math.floor((n / total) * 100)).padStart(3)}%|${'█'.repeat(Math.floor((n / total) * 10)).padEnd(10)}| ${n}/${total} [00:01<00:01, 50.00it/s]` },
  HandBrakeCLI: { before: 'Encoding: task 1 of 1, 0.00 %', draw: (n, total) => `\rEncoding: task 1 of 1, ${((n / total) * 100).toFixed(2)} % (60.39 fps, avg 53.14 fps, ETA 00h09m06s)` },
  'ffmpeg -progress pipe:1': {
    before: '',
    draw: (n) =>
      `frame=${n}\nfps=24.0\nstream_0_0_q=28.0\nbitrate= 352.6kbits/s\ntotal_size=${n * 1000}\nout_time_us=${n * 41666}\nout_time_ms=${n * 41666}\nout_time=00:00:${((n * 41666) / 1e6).toFixed(6).padStart(9, '0')}\ndup_frames=0\ndrop_frames=0\nspeed=1.5x\nprogress=continue\n`,
  },
  'SVT-AV1': { before: 'Svt[info]: -------------------------------------------\nEncoding          \b\b\b\b\b\b\b\b\b', draw: (n) => `${String(n).padStart(9)}\b\b\b\b\b\b\b\b\b` },
};

function statusLog(drawn: { before: string; draw: (n: number, total: number) => string }, megabytes: number): string[] {
  // The count of lines that fills the size, about: each line's length from one of the middle.
  const total = Math.ceil((megabytes * 1024 * 1024) / drawn.draw(5000, 10000).length);
  const parts = [drawn.before];
  for (let n = 1; n <= total; n++) parts.push(drawn.draw(n, total));
  const text = parts.join('');
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += CHUNK) chunks.push(text.slice(at, at + CHUNK));
  return chunks;
}

/** Megabytes a second through the pipeline and through a bare split, for the same chunks. */
async function measure(chunks: string[]): Promise<[number, number]> {
  const bytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk), 0) / 1024 / 1024;
  collectGarbage();
  const splitStart = performance.now();
  let pending = '';
  let lines = 0;
  for (const chunk of chunks) {
    // SVT-AV1's counter ends each state with backspaces, not a line break.
    const parts = (pending + chunk).split(/\r\n|\r|\n|\x08+/);
    pending = parts.pop() ?? '';
    lines += parts.length;
  }
  const splitRate = bytes / elapsed(splitStart);

  let clock = 0;
  collectGarbage();
  const pipelineStart = performance.now();
  const updates = await lastValueFrom(
    from(chunks).pipe(
      splitRecordBatches(),
      readProgress({ parse: createParser({ parser: 'auto' }), known: { totalFrames: lines }, nowMs: () => (clock += 1), startMs: 0 }),
      throttleProgress({ progressThreshold: 1, heartbeatMs: 5000 }, () => clock),
      map(() => 1),
      countAll(),
    ),
  );
  const pipelineRate = bytes / elapsed(pipelineStart);
  if (updates === 0) throw new Error('the pipeline read nothing from the log');
  return [pipelineRate, splitRate];
}
