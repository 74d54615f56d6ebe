import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFfmpegHeader, parseFfmpegStats, statsLineReplacedBy } from '../src/progress/parsers/ffmpeg.js';
import { createParser } from '../src/progress/parsers/index.js';
import { planOf } from '../src/progress/encode-plan.js';
import { splitRecordBatches, splitRecordsApart } from '../src/progress/lines.js';
import { type ProbedInputs, type ProgressUpdate, readProgress } from '../src/progress/pipeline.js';
import { corpusFile } from './helpers/corpus.js';
import { until } from './helpers/wait.js';

test('an ffmpeg stats line gives frame, fps, bitrate, time and speed', () => {
  const sample = parseFfmpegStats('frame=  170 fps=0.0 q=28.0 size=     139kB time=00:00:06.59 bitrate= 172.1kbits/s speed=13.2x    ');
  assert.equal(sample, { format: 'ffmpeg', frame: 170, fps: 0, bitrate: 172.1, speed: 13.2, timeSeconds: 6.59 });
});

test('N/A values read as null, KiB sizes and elapsed= do not confuse it', () => {
  const sample = parseFfmpegStats('frame=  876 fps=219 q=-1.0 size=    4864KiB time=N/A bitrate=N/A speed=N/A elapsed=0:00:04.00');
  assert.is(sample?.frame, 876);
  assert.is(sample?.timeSeconds, null);
  assert.is(sample?.bitrate, null);
  assert.is(sample?.speed, null);
});

test('the last report (Lsize=) is read like the others, and a negative start time is unknown', () => {
  assert.is(parseFfmpegStats('frame= 7163 fps=508 q=-1.0 Lsize=   12860kB time=00:04:46.55 bitrate= 367.6kbits/s speed=20.3x')?.frame, 7163);
  assert.is(parseFfmpegStats('frame=    0 fps=0.0 q=0.0 size=       0kB time=-577014:32:22.77 bitrate=  -0.0kbits/s speed=N/A')?.timeSeconds, null);
});

test('lines that are not stats are not progress', () => {
  assert.is(parseFfmpegStats('[Parsed_palettegen_0 @ 0x1] 255(+1) colors generated; ratio=0.000515'), null);
  assert.is(parseFfmpegStats('[libx264 @ 0x55] frame I:1     Avg QP:22.46  size:  4289'), null);
});

test('Duration and video stream headers give the totals', () => {
  assert.equal(parseFfmpegHeader('  Duration: 00:04:46.54, start: 0.373378, bitrate: 1395 kb/s'), { format: 'ffmpeg-header', header: true, durationSeconds: 286.54 });
  assert.equal(parseFfmpegHeader('  Duration: N/A, start: 0.000000, bitrate: N/A'), { format: 'ffmpeg-header', header: true, durationSeconds: null });
  assert.equal(
    parseFfmpegHeader('    Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p(progressive), 640x480, 24 fps, 24 tbr, 24 tbn, 24 tbc'),
    { format: 'ffmpeg-header', header: true, frameRate: 24 },
  );
});

test('the real ffmpeg pty capture reads to 240 of 240 frames, rising, ending at 100 %', async () => {
  let clock = 0;
  const updates = await lastValueFrom(
    from([corpusFile('ffmpeg-stats.pty.log')]).pipe(
      splitRecordsApart(),
      readProgress({ parse: createParser({ parser: 'auto' }), known: { totalFrames: null }, nowMs: () => (clock += 100), startMs: 0 }),
      toArray(),
    ),
  );
  assert.ok(updates.length > 3);
  const last = updates.at(-1)!.fields;
  assert.is(last.totalFrames, 240);
  assert.is(last.frame, 240);
  assert.is(last.progress, 100);
  for (let i = 1; i < updates.length; i++) assert.ok((updates[i]!.fields.progress ?? 0) >= (updates[i - 1]!.fields.progress ?? 0), 'never backwards');
});

const stats = (frame: number) => `frame=${String(frame).padStart(5)} fps= 50 q=28.0 size=     139kB time=00:00:0${frame % 10}.00 bitrate= 172.1kbits/s speed=2.0x    `;

test('a stats line is replaced by the next one of the same read unless its frame count goes back', () => {
  assert.ok(statsLineReplacedBy(stats(10), stats(20)));
  assert.ok(statsLineReplacedBy(stats(20), stats(20)), 'a frozen status says nothing new');
  assert.not.ok(statsLineReplacedBy(stats(200), stats(3)), 'a count that goes back may be the next pass');
  assert.not.ok(statsLineReplacedBy(stats(10), '[libx264 @ 0x55] frame I:1     Avg QP:22.46  size:  4289'));
  assert.not.ok(statsLineReplacedBy('  Duration: 00:00:10.00, start: 0.000000', stats(20)));
  assert.not.ok(statsLineReplacedBy(stats(10), 'frame=   20 and no fields'), 'the next line must be a stats line too');
});

test('of one read, only the last stats line is parsed, and a pass that starts inside it is still seen', async () => {
  const read = (chunks: string[]) =>
    lastValueFrom(
      from(chunks).pipe(
        splitRecordBatches(),
        readProgress({ parse: createParser({ parser: 'auto' }), known: { totalFrames: 100, plan: planOf(['ffmpeg -pass 1 -i a b && ffmpeg -pass 2 -i a b'], true) }, nowMs: () => 0, startMs: 0 }),
        toArray(),
      ),
    );
  const oneRead = await read([`${[10, 20, 30].map(stats).join('\r')}\r`]);
  assert.is(oneRead.length, 1, 'one update for the read');
  assert.is(oneRead[0]!.fields.frame, 30);

  const passes = await read([`${[40, 80, 100, 2, 5].map(stats).join('\r')}\r`]);
  assert.equal(passes.map((update) => update.fields.frame), [100, 5]);
  assert.is(passes.at(-1)!.fields.pass, 2, 'the count that went back began pass 2');
});

test('of one read, a status line drawn over by the same line is not parsed, and the read is one update', async () => {
  const parsed: string[] = [];
  const auto = createParser({ parser: 'auto' });
  const counting = (line: string) => (parsed.push(line), auto(line));
  const read = (chunks: string[]) =>
    lastValueFrom(from(chunks).pipe(splitRecordBatches(), readProgress({ parse: counting, known: { totalFrames: null }, nowMs: () => 0, startMs: 0 }), toArray()));
  const bar = (step: number, name = 'Rendering') => `${name}: ${String(step).padStart(3)}%|${'█'.repeat(step / 10)}| ${step}/100 [00:01<00:01, 50.00it/s]`;
  const redraws = Array.from({ length: 100 }, (_, at) => `\r${bar(at + 1)}`).join('');
  const updates = await read([`${redraws}\n`]);
  assert.equal(parsed, [bar(100)], 'only the line the read left on screen');
  assert.is(updates.length, 1);
  assert.is(updates[0]!.detail.step, 100);

  // Lines that end their line, and another bar drawn on the same line, are each read.
  parsed.length = 0;
  await read([`Animation frame 3/10\n\r${bar(10, 'Sampling')}\r${bar(10, 'Decoding')}\r${bar(20, 'Sampling')}\r${bar(20, 'Decoding')}\r`]);
  assert.equal(parsed, ['Animation frame 3/10', bar(10, 'Sampling'), bar(10, 'Decoding'), bar(20, 'Sampling'), bar(20, 'Decoding')]);
});

test('of one read of -progress blocks, a block a newer one follows is not parsed; a run\'s last block, other lines and an unfinished block are', async () => {
  const parsed: string[] = [];
  const block = (frame: number, end = 'continue') => [`frame=${frame}`, 'fps=24.0', 'stream_0_0_q=28.0', `out_time_us=${frame * 40_000}`, 'speed=1.5x', `progress=${end}`];
  const text = (lines: string[]) => lines.map((line) => `${line}\n`).join('');
  const read = async (choice: 'auto' | 'ffmpeg-progress', chunks: string[], command = 'ffmpeg -i a -progress pipe:1 b') => {
    parsed.length = 0;
    const parser = createParser({ parser: choice });
    const counting = Object.assign((line: string) => (parsed.push(line), parser(line)), { replacedBy: parser.replacedBy, staleIn: parser.staleIn });
    const known = { totalFrames: 100, plan: planOf([command], true) };
    return lastValueFrom(from(chunks).pipe(splitRecordBatches(), readProgress({ parse: counting, known, nowMs: () => 0, startMs: 0 }), toArray()));
  };
  const header = '  Duration: 00:00:04.00, start: 0.000000, bitrate: 1 kb/s';
  const busyRead = text([...block(10), stats(15), ...block(20), header, ...block(30), 'frame=31', 'fps=24.0']);
  for (const choice of ['auto', 'ffmpeg-progress'] as const) {
    // Under auto, blocks are looked for once the run has printed one.
    const updates = await read(choice, [text(block(1)), busyRead]);
    const expected = [stats(15).trimEnd(), header, ...block(30), 'frame=31', 'fps=24.0'];
    assert.equal(parsed.slice(block(1).length), expected, `${choice}: the stats line, the header, the newest block and the unfinished one`);
    assert.equal(updates.map((update) => update.fields.frame), [1, 31], choice);
  }
  // A block that ends its run (progress=end) is read even with another after it: the pass's last word.
  const twoPasses = 'ffmpeg -pass 1 -i a -progress pipe:1 b && ffmpeg -pass 2 -i a -progress pipe:1 b';
  const passes = await read('auto', [text(block(1)), text([...block(50), ...block(100, 'end'), ...block(2), ...block(5)])], twoPasses);
  assert.equal(parsed.slice(block(1).length), [...block(100, 'end'), ...block(5)]);
  assert.equal(passes.map((update) => update.fields.frame), [1, 100, 5]);
  assert.is(passes.at(-1)!.fields.pass, 2, 'the second run is pass 2');
});

test('with the format pinned, a run that changes format mid-way is still read', () => {
  const parse = createParser({ parser: 'auto' });
  assert.is(parse(stats(10))?.format, 'ffmpeg');
  assert.is(parse(stats(20))?.format, 'ffmpeg');
  assert.is(parse(' 45%|████▌     | 45/100 [00:10<00:12,  4.50it/s]')?.format, 'tqdm');
  assert.is(parse(stats(30))?.format, 'ffmpeg');
});

test('the input probe is asked when work comes with no percent, and its length joins the progress when it comes', async () => {
  let probeDone!: (totals: ProbedInputs) => void;
  let asked = 0;
  const probe = () => {
    asked += 1;
    return new Promise<ProbedInputs>((resolve) => (probeDone = resolve));
  };
  const chunks = new Subject<string>();
  const updates: ProgressUpdate[] = [];
  let completed = false;
  chunks.pipe(splitRecordBatches(), readProgress({ parse: createParser({ parser: 'auto' }), known: { totalFrames: null }, nowMs: () => 0, startMs: 0, probe })).subscribe({ next: (update) => updates.push(update), complete: () => (completed = true) });
  chunks.next(`${stats(10)}\r`);
  assert.is(updates.at(-1)!.fields.progress, null, 'no length known yet: no percent');
  chunks.next(`${stats(20)}\r`);
  assert.is(asked, 1, 'asked once');
  chunks.next(`${stats(125)}\r`);
  chunks.complete();
  assert.not.ok(completed, 'the end waits for the probe under way');
  probeDone({ totals: { durationSeconds: 10, frameRate: 25 }, expectedRunSeconds: null });
  await until(() => completed, 'the pipeline to complete');
  assert.is(updates.at(-1)!.fields.totalFrames, 250, '10 s at 25 fps, from the probe');
  assert.is(updates.at(-1)!.fields.progress, 50, 'the last work read again with the length');
});

test('no probe is asked where a header gave the length', async () => {
  let asked = 0;
  const probe = async (): Promise<ProbedInputs> => {
    asked += 1;
    return { totals: null, expectedRunSeconds: null };
  };
  await lastValueFrom(
    from([`  Duration: 00:00:10.00, start: 0.000000, bitrate: 1 kb/s\n    Stream #0:0: Video: h264, yuv420p, 320x240, 25 fps, 25 tbr\n${stats(10)}\r${stats(20)}\r`]).pipe(
      splitRecordBatches(),
      readProgress({ parse: createParser({ parser: 'auto' }), known: { totalFrames: null }, nowMs: () => 0, startMs: 0, probe }),
      toArray(),
    ),
  );
  assert.is(asked, 0);
});

test.run();
