// 3. Parser: megabytes per second of a long real ffmpeg log (its stats lines repeated with rising
// frame numbers) through the whole progress pipeline, against a bare split of the same bytes into
// lines: as a busy pty delivers it (64 KB reads, where a stats line the next one replaces is not
// parsed), and at worst, one status line per read (every line parsed). Each measured after a
// warm-up run, so both sides are compiled code.
import { readFileSync } from 'node:fs';
import { from, lastValueFrom, count as countAll, map } from 'rxjs';
import { splitRecordBatches } from '../../src/progress/lines.js';
import { createParser } from '../../src/progress/parsers/index.js';
import { readProgress, throttleProgress } from '../../src/progress/pipeline.js';
import { type Figure, atLeast, elapsed, figure } from '../lib.js';

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
  return [
    figure(`parser, ${megabytes} MB ffmpeg log in 64 KB reads`, pipeline, 'MB/s', split, 'bare split into lines', atLeast(150, 'MB/s', pipeline)),
    figure(`parser, ${megabytes} MB ffmpeg log, one status line per read`, lineByLine, 'MB/s', lineSplit, 'bare split into lines'),
  ];
}

/** Megabytes a second through the pipeline and through a bare split, for the same chunks. */
async function measure(chunks: string[]): Promise<[number, number]> {
  const bytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk), 0) / 1024 / 1024;
  const splitStart = performance.now();
  let pending = '';
  let lines = 0;
  for (const chunk of chunks) {
    const parts = (pending + chunk).split(/\r\n|\r|\n/);
    pending = parts.pop() ?? '';
    lines += parts.length;
  }
  const splitRate = bytes / elapsed(splitStart);

  let clock = 0;
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
