// Every sample of the corpus of real encoder output reads as its `# expect:` line says. The checks
// below restate each expect line in terms of what encsup reads: the parser's sample for a record
// (null = not progress) and the job's percent after it. Records are the sample's text split as a
// terminal stream is (\r and \n), so samples with embedded CRs give several records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { splitRecordBatches, splitRecords } from '../src/progress/lines.js';
import { createParser } from '../src/progress/parsers/index.js';
import { applySample, initialProgress } from '../src/progress/progress-state.js';
import type { ProgressSample } from '../src/progress/sample.js';
import { lastValueFrom, of, toArray } from 'rxjs';
import { readSamples } from './helpers/corpus-samples.js';
import { corpusFile } from './helpers/corpus.js';

type Check = { line: number | 'last'; is?: null; has?: Partial<ProgressSample>; progress?: number };
type Expectations = Record<number, Check[]>;

const no = (...lines: number[]): Check[] => lines.map((line) => ({ line, is: null }));
const at = (line: number | 'last', has: Partial<ProgressSample>, progress?: number): Check => ({ line, has, ...(progress === undefined ? {} : { progress }) });
const percent = (line: number | 'last', progress: number): Check => ({ line, progress });

const EXPECTATIONS: Record<string, Expectations> = {
  'public/ffmpeg-stderr.txt': {
    1: [...no(1), at(2, { frame: 2, fps: 0.1, timeSeconds: 0.05, bitrate: 18286.1, speed: 0.00222 }), at(4, { frame: 38, fps: 1.6, timeSeconds: 1.73, bitrate: 679.9, speed: 0.0736 }, 0)],
    2: [at(3, { frame: 170, fps: 0, timeSeconds: 6.59, bitrate: 172.1, speed: 13.2 }, 2.3), at(4, { frame: 432, speed: 17 }), at(5, { frame: 7151, timeSeconds: 285.76 }, 99.73), at(6, { frame: 7163, timeSeconds: 286.55 }, 100), ...no(7)],
    3: [at(5, { frame: 1452, fps: 1451, bitrate: 0 }, 0), ...no(7, 8), at(9, { frame: 100000, fps: 1531, timeSeconds: 4166.62, speed: 63.8 }, 0)],
    4: [at(3, { frame: 438, timeSeconds: 14.6, speed: 222, bitrate: null }, 100), ...no(4)],
    5: [...no(1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13), at(10, { durationSeconds: 206.11 }), percent('last', 0)],
    6: [at(2, { durationSeconds: null }), percent('last', 0)],
    7: [...no(1, 2, 3), at(4, { durationSeconds: 808.92 })],
    8: [...no(1, 2, 4, 5), at(3, { durationSeconds: 120.11 }), at(6, { frame: 3593, fps: 233, timeSeconds: 120, bitrate: 698.2, speed: 7.79 }, 99.91)],
    9: [...no(1, 3), at(2, { frame: 3600, fps: 165, timeSeconds: 120, bitrate: 698.5, speed: 5.52 })],
    10: [at(2, { fps: 80, timeSeconds: 120, speed: 2.65 })],
    11: [at(1, { frame: 4151, fps: 130, timeSeconds: 415, bitrate: null, speed: 13 })],
    12: [at(1, { frame: 117, fps: 77, timeSeconds: 3.96, speed: 2.59 }), at(2, { frame: 336, timeSeconds: 11.3, bitrate: 185.6, speed: 2.79 })],
    13: [at(1, { frame: 1839, fps: 18, bitrate: null, timeSeconds: 61.69, speed: 0.59 }), at(3, { timeSeconds: 62.64, speed: 0.593 }), ...no(4)],
    14: [at(1, { frame: 8, timeSeconds: 8, speed: 0.448 }), at(2, { frame: 9, speed: 0.447 }), at(3, { frame: 10, fps: 0.4, timeSeconds: 10, speed: 0.425 }, 0)],
    15: [at(1, { frame: 207, fps: 0, timeSeconds: 6.97, bitrate: null, speed: 13.9 })],
    16: [at(1, { frame: 133, fps: 26, timeSeconds: 5.37, bitrate: 0.1, speed: 1.04 })],
    17: [at(1, { frame: 1996, fps: 1984, timeSeconds: 79.72, bitrate: 38.2, speed: 79.2 }), at(2, { frame: 5, fps: 0, timeSeconds: 3, speed: 283 })],
    18: [at(1, { frame: 1668, fps: 0, timeSeconds: 55.9, speed: 112 }), at(2, { frame: 3191, fps: 3187, timeSeconds: 106.7, speed: 107 }), ...no(3)],
    19: [at(1, { frame: 2388, timeSeconds: 39.75, speed: 3.91 }), at(2, { frame: 2449, timeSeconds: 40.76 })],
    20: no(1, 2, 3),
    21: [at(1, { timeSeconds: null, speed: null }, 0)],
    22: [at(1, { frame: 46, fps: 43, timeSeconds: 0, bitrate: null, speed: 0 })],
    23: [at(1, { frame: null, timeSeconds: 216.94, bitrate: 32, speed: 43.6 })],
    24: [at(1, { timeSeconds: 411.62, bitrate: 194.8, speed: null })],
    25: [at(1, { timeSeconds: 64.41, bitrate: 320.4, speed: null })],
    26: [at(1, { frame: 835, fps: 8.9, timeSeconds: 28.21, bitrate: 69.1, speed: null }), at(2, { frame: 840, timeSeconds: 28.39 })],
    27: [at(1, { frame: 152, fps: 0.8, timeSeconds: 6.33, speed: 0.0324 }), at(2, { frame: 152, speed: 0.0323 }), at(3, { frame: 153, timeSeconds: 6.38 })],
    28: [at(1, { frame: 33886, fps: 34, timeSeconds: 1413.95, bitrate: 683.7, speed: 1.41 })],
    29: [at(1, { frame: 585, timeSeconds: 19.59, speed: 0.897 }), at(2, { frame: 590, timeSeconds: 19.64, speed: 0.792 }), ...no(3, 4)],
    30: [at(1, { fps: 0, timeSeconds: 0.72, speed: 1.45 }), at(3, { frame: 73, speed: 1.7 })],
    31: [at(1, { frame: 0, timeSeconds: 0, speed: 0 }), at(3, { frame: 0, timeSeconds: 0, speed: 0 }, 0)],
    32: [at(2, { frame: 0, timeSeconds: 0, bitrate: null, speed: 0 })],
    33: [at(2, { frame: 150, fps: 22, timeSeconds: 5.24, bitrate: 1598.6, speed: 0.779 })],
    34: [...no(1, 2, 3, 4, 6), at(5, { frame: 0, timeSeconds: null, speed: null }, 0)],
    35: [...no(1, 3), at(2, { frame: 289, fps: 40, timeSeconds: 11.52, bitrate: 2548.6, speed: 1.58 })],
    36: [at(1, { frame: 25, fps: 11, timeSeconds: 0.81, speed: 0.363 }), at(2, { frame: 31, timeSeconds: 1, speed: 0.362 }, 0)],
  },
  'public-lines.txt': {
    1: [at(1, { frame: 876, fps: 219, timeSeconds: null, bitrate: null, speed: null })],
    2: [at(1, { frame: 0, fps: 0, timeSeconds: null }, 0)],
    3: [at(1, { frame: 0, fps: 0, timeSeconds: null }, 0)],
    4: [at(1, { frame: 33886, fps: 34, timeSeconds: 1413.95, bitrate: 683.7, speed: 1.41 })],
    5: [at(1, { percent: 42.5, fps: 123.45, encoderEtaSeconds: 150 })],
    6: [at(1, { percent: 1.23, fps: null })],
    7: [at(1, {}, 75)],
    8: [at(1, { timeSeconds: null })],
    9: [at(1, { timeSeconds: null })],
    10: [at(1, { timeSeconds: 5.005 })],
    11: [at(1, { frame: 12, totalFrames: 120 }, 10)],
    12: [at(1, { step: 60092, totalSteps: null, fps: 1.41 }, 0)],
  },
  'public/ffmpeg-progress-pipe.txt': {
    1: [at(1, { frame: 5 }), at(2, { fps: 0 }), at(4, { bitrate: 0.8 }), at(6, { timeSeconds: 0.512 }), at(10, { speed: 1.01 }), at(11, {})],
    2: [at(1, { frame: 118 }), at(2, { fps: 23.4 }), at(4, { bitrate: 1230.2 }), at(6, { timeSeconds: 5.034667 }), at(10, { speed: 0.998 })],
    3: [at(1, { frame: 132 }), at(6, { timeSeconds: 5.312 }), at(10, { speed: 0.929 }), at(11, {})],
    4: [at(1, { frame: 0 }), at(2, { fps: 0 }), at(4, { bitrate: null }), at(6, { timeSeconds: null }), at(7, { timeSeconds: null }), at(10, { speed: null }), at(11, {})],
    5: [at(1, { speed: 13.7 }), at(3, { frame: 4979 }), at(4, { fps: 342.08 }), at(6, { bitrate: 188.5 }), at(8, { timeSeconds: 200.213333 }), at(15, { frame: 5153 }), at(21, { timeSeconds: 207.168 }), at(25, { speed: 13.8 })],
    6: [at(1, { frame: 167524 }), at(6, { timeSeconds: 6988.0525 }), at(10, { speed: 932 }), at(12, { frame: 175560 }), at(17, { timeSeconds: 7323.3065 }), at(21, { speed: 929 }), at(22, {})],
    7: [at(2, { timeSeconds: 90.2, speed: 180 }), ...no(3), percent('last', 0)],
  },
  'public/handbrake.txt': {
    1: [at(1, { percent: 44.65, fps: 55.48, encoderEtaSeconds: 43 }), at(2, { percent: 44.96, encoderEtaSeconds: 42 }), at(3, { percent: 45.21, fps: 55.92, encoderEtaSeconds: 42 })],
    2: [at(1, { percent: 0.45, fps: null, encoderEtaSeconds: null }), at(3, { percent: 2.69 }), at(4, { percent: 2.95, fps: 39.06, encoderEtaSeconds: 142 }), at(5, { percent: 3.74, encoderEtaSeconds: 143 })],
    3: [at(1, { percent: 91.25, encoderEtaSeconds: 546 }), at(2, { percent: 91.255, encoderEtaSeconds: 545 }), at(3, { percent: 91.285, encoderEtaSeconds: 542 })],
    4: [at(1, { percent: 31.96, fps: 304.01, encoderEtaSeconds: 417, frame: undefined, timeSeconds: undefined }), at(2, { percent: 33.94, encoderEtaSeconds: 405 }), at(3, { percent: 57.03, encoderEtaSeconds: 265 }), ...no(4)],
    5: [at(1, { percent: 35.83, fps: 0.7, encoderEtaSeconds: 29 }), at(3, { percent: 35.83, fps: 0.7, encoderEtaSeconds: 29 })],
  },
  'public/x264.txt': {
    1: [at(1, { percent: 79.5, frame: 3276, totalFrames: 4123, fps: 284.69, bitrate: 2111.44, encoderEtaSeconds: 2 })],
    2: [at(1, { frame: 24, totalFrames: undefined, fps: 39.11, bitrate: 14.6, encoderEtaSeconds: undefined }), at(2, { percent: 42.5, frame: 121, totalFrames: 285, fps: 2.47, bitrate: 1445.28, encoderEtaSeconds: 66 })],
    3: [...no(1, 2, 3, 4, 11), at(5, { percent: 0.2, frame: 1, totalFrames: 438, fps: 9.71, bitrate: 4423.2, encoderEtaSeconds: 45 }), at(8, { percent: 70.1, frame: 307, fps: 359.48, encoderEtaSeconds: 0 }), at(10, { percent: 100, frame: 438 }), at(12, { frame: 438 })],
    4: [...no(1, 2, 6, 7), at(3, { frame: 1, fps: 43.48, bitrate: 304.9 }), at(5, { frame: 1632 }), at(8, { frame: 10000 }), at(9, { frame: 10000 }, 0)],
    5: [...no(1, 5, 6), at(2, { percent: 0, frame: 1, totalFrames: 1000000, fps: 41.67, encoderEtaSeconds: 23999 }), at(7, { percent: 1, frame: 10000, encoderEtaSeconds: 1163 }), at(8, { frame: 10000 })],
  },
  'public/x265.txt': {
    1: [at(1, { percent: 6, frame: 60, totalFrames: 1000, fps: 29.98, bitrate: 945.95, encoderEtaSeconds: 31 })],
    2: [...no(1, 2, 3, 4, 5), at(6, { frame: 1199, fps: 3.41, bitrate: 10612.72 })],
    3: [...no(1, 2, 3, 4), at(5, { frame: 1001, fps: 17, bitrate: 5055.9 })],
    4: [at(1, { frame: 70359, fps: 5.74, bitrate: 5840.9 })],
    5: [at(1, { totalFrames: 65960, header: true }), ...no(2, 3, 4, 5), percent('last', 0)],
    6: [...no(1, 3), at(2, { totalFrames: 760 })],
    7: [at(1, { totalFrames: 7194 })],
  },
  'public/svtav1.txt': {
    1: [at(1, { frame: 0, bitrate: 1.08, fps: 2 }), at(2, { frame: 22, bitrate: 2.03, fps: 3.68 }, 0)],
    2: [at(1, { frame: 55, totalFrames: null, fps: 7.05, bitrate: 681.56, encoderEtaSeconds: null }, 0)],
    3: [at(1, { frame: 145, totalFrames: 241, fps: 8.54, bitrate: 975.7, encoderEtaSeconds: 11 }, 60.17)],
    4: [at(1, { frame: 24, totalFrames: 171, fps: 3.43, bitrate: 670.5, encoderEtaSeconds: 43 }, 14.04)],
    5: [at(1, { frame: 172, totalFrames: 239, fps: 16.95 / 60, bitrate: 6306.27, encoderEtaSeconds: 0 }, 71.97), ...no(2)],
    6: [at(1, { frame: 17, totalFrames: 55, fps: 2.39, encoderEtaSeconds: 0 }, 30.91), at(2, { frame: 9, totalFrames: 55, fps: 1.57, encoderEtaSeconds: 29 }, 30.91)],
    7: [at(1, { frame: 2000 }), at(2, { fps: 129.95 })],
  },
  'public/tqdm.txt': {
    1: [...no(1, 2), at(3, { step: 0, totalSteps: null, fps: null }, 0)],
    2: [at(2, { step: 1, totalSteps: 804, fps: 1 / 4.37, encoderEtaSeconds: 3509 }), at('last', { step: 40, totalSteps: 804, percent: (40 / 804) * 100, fps: 9.65, encoderEtaSeconds: 79 }, 4.98)],
    3: [at(1, { step: 27, totalSteps: 6000, encoderEtaSeconds: 103336, fps: 1 / 17.3 })],
    4: [at(1, { step: 33.1e6, totalSteps: 35.4e6, encoderEtaSeconds: 0, fps: 31.1 })],
    5: [at(1, { step: 0, totalSteps: 10.3, fps: null }), at(2, { step: 3.2, totalSteps: 10.3, fps: 1.74, encoderEtaSeconds: 12 })],
    6: [
      at(1, { percent: 5, step: 1, totalSteps: 20, fps: 1 / 3.39 }),
      at(2, { percent: 15, step: 3, totalSteps: 20, fps: 1.16 }),
      at(5, { percent: 100, step: 20 }),
      at(6, { step: 20, totalSteps: 20, level: 'outer' }),
      at(7, { step: 0, totalSteps: 20, level: 'inner' }),
    ],
    7: [...no(1), at(2, { fps: 2.62 }), at(3, { fps: 1 / 3.02 })],
    8: [at(1, { percent: 100, step: 24, totalSteps: 24, encoderEtaSeconds: 0, fps: 1 / 1.21 })],
    9: [...no(1, 2, 5, 6), at(3, { percent: 100, step: 20, totalSteps: 20, fps: 1 / 2.15 }), at(4, { fps: 1 / 2.41 })],
    10: [...no(1, 2), at(3, { step: 4, totalSteps: 4, percent: 100, fps: 1 / 1.04 }), at(4, { fps: 1 / 1.11 })],
    11: [at(1, { step: 12032, totalSteps: 18808, fps: 59.73, encoderEtaSeconds: 113 }), ...no(2, 3), at(4, { step: 0, totalSteps: 18808, fps: null })],
  },
  'public/deforum.txt': {
    1: [
      at(1, { step: 110, totalSteps: 110, level: 'inner' }),
      at(2, { step: 110, totalSteps: 6666, encoderEtaSeconds: 1086 }),
      at(3, { frame: 2, totalFrames: 300, level: 'outer' }),
      ...no(4, 5, 6, 7, 8),
      at(9, { step: 110, totalSteps: 6666, level: 'outer' }),
    ],
    2: [at(1, { step: 295, totalSteps: 556, level: 'outer', fps: 7.89, encoderEtaSeconds: 33 }), ...no(2, 3, 4, 5, 6, 7, 8, 9, 10, 11)],
    3: [...no(1, 2, 3, 4, 5, 7), at(6, { frame: 0, totalFrames: 40 }, 0)],
  },
  'public/blender.txt': {
    1: [at(1, { frame: 125, step: null }), at(2, { frame: 125, step: 0, totalSteps: 16 }), at(3, { frame: 125, step: 1, totalSteps: 16, encoderEtaSeconds: 0.14 }, 0)],
    2: [...no(1), at(2, { frame: 8, step: null }), at(3, { frame: 8, step: null })],
    3: [at(1, { frame: 1, step: null }), at(2, { frame: 1, step: null }), at(3, { frame: 1, step: null }, 0)],
    4: [at(1, { frame: 1, step: null }), at(2, { frame: 1, step: null })],
    5: [at(1, { frame: 2, step: 768, totalSteps: 4096, encoderEtaSeconds: 13.01 })],
    6: [at(1, { frame: 1, step: 17, totalSteps: 64 })],
  },
  'public/rav1e.txt': {
    1: [...no(1), at(2, { frame: 99, totalFrames: 100, fps: 1.23, bitrate: 419.91, encoderEtaSeconds: null }, 99)],
    2: [at(1, { frame: 60, totalFrames: 120, fps: 0.25, bitrate: 1075.22 }), at(2, { fps: 0.248, encoderEtaSeconds: 242 }, 50)],
    3: [at(1, { frame: 120, totalFrames: 120, fps: 9.326, encoderEtaSeconds: 0 }, 100), at(2, { frame: 120, totalFrames: null, fps: 9.571 })],
    4: [at(1, { frame: 1, fps: 126.416, bitrate: 16.32 })],
    5: [at(1, { frame: 600, fps: 0.475, bitrate: 2427.96 }), ...no(2)],
    6: [at(1, { frame: 1, fps: 0.003, bitrate: 28738.56 }), at(2, { frame: 2, bitrate: 20937.36 })],
  },
  'public/aomenc.txt': {
    1: [at(1, { frame: 2, fps: 500.25 }), at(2, { frame: 83, fps: 634.85 }), at(3, { frame: 13379, fps: 798.31 }), at(4, { frame: 102261, fps: 777.65 })],
  },
  'public/nvencc.txt': {
    1: [at(1, { frame: 5714, fps: 80.92, bitrate: 19695, percent: undefined }), at(2, { frame: 5792 }), at(3, { frame: 8825, fps: 80.5, bitrate: 11597 }, 0)],
  },
  'public/gifski.txt': {
    1: [at(1, { frame: 663, totalFrames: 705, encoderEtaSeconds: 41 }, 94.04)],
  },
  'public/av1an.txt': {
    1: [at(1, { frame: 1080, totalFrames: 1080, fps: 17.83, encoderEtaSeconds: 0 }), ...no(2), at(3, { frame: 0, totalFrames: 1080, fps: 0, encoderEtaSeconds: null })],
  },
};

interface Reading {
  records: string[];
  samples: (ProgressSample | null)[];
  progress: number[];
}

/** The text as a terminal stream, read record by record as a job's output is. */
async function read(text: string, totalFrames: number | null = null): Promise<Reading> {
  const records = await lastValueFrom(of(text).pipe(splitRecords(), toArray()));
  const parse = createParser({ parser: 'auto' });
  let state = initialProgress({ totalFrames });
  const samples: (ProgressSample | null)[] = [];
  const progress: number[] = [];
  for (const record of records) {
    const parsed = parse(record);
    if (parsed) state = applySample(state, parsed);
    samples.push(parsed);
    progress.push(state.fields.progress ?? 0);
  }
  return { records, samples, progress };
}

function near(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number' && typeof actual === 'number') return Math.abs(actual - expected) <= Math.max(0.006, Math.abs(expected) * 0.002);
  return actual === expected;
}

for (const [file, expectations] of Object.entries(EXPECTATIONS)) {
  test(`${file}: every sample reads as its expect line says`, async () => {
    const samples = readSamples(file);
    assert.equal(Object.keys(expectations).map(Number), samples.map((sample) => sample.index), `a check for each of the ${samples.length} samples`);
    for (const sample of samples) {
      const reading = await read(sample.lines.join('\n'));
      for (const check of expectations[sample.index]!) {
        const index = check.line === 'last' ? reading.records.length - 1 : check.line - 1;
        const where = `${file} sample ${sample.index} record ${index + 1} ${JSON.stringify(reading.records[index])} (expect: ${sample.expect})`;
        assert.ok(index < reading.records.length, `no record ${index + 1} in ${file} sample ${sample.index}`);
        const parsed = reading.samples[index];
        if (check.is === null) assert.is(parsed, null, `not progress: ${where}`);
        if (check.has) {
          assert.ok(parsed, `progress expected: ${where}`);
          for (const [key, value] of Object.entries(check.has)) {
            const actual = (parsed as unknown as Record<string, unknown>)[key];
            // undefined in a check means "absent or null": the line does not state it.
            const ok = value === undefined ? actual === undefined || actual === null : near(actual ?? null, value);
            assert.ok(ok, `${key}: expected ${value}, got ${actual} at ${where}`);
          }
        }
        if (check.progress !== undefined) assert.ok(near(reading.progress[index], check.progress), `job percent ${reading.progress[index]}, expected ${check.progress} at ${where}`);
      }
      for (let i = 1; i < reading.progress.length; i++) assert.ok(reading.progress[i]! >= reading.progress[i - 1]!, `never backwards in ${file} sample ${sample.index}`);
    }
  });
}

test('the raw pty captures of the real encoders (the corpus\'s and ours) read to their whole frame count and 100 %', async () => {
  const captures: [string, number | null, (state: Reading) => void][] = [
    ['ffmpeg-stats.pty.log', null, (r) => assert.is(r.samples.filter(Boolean).at(-1)?.frame, 240)],
    ['ffmpeg-progress-pipe.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame != null || (s?.percent ?? 0) >= 99))],
    ['x264.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame === 240))],
    ['x265.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame === 240))],
    ['svtav1.pty.log', 240, (r) => assert.is(r.samples.filter(Boolean).at(-1)?.frame, 240)],
    ['handbrakecli.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame != null || (s?.percent ?? 0) >= 99))],
    ['python-tqdm-steps.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.step === 20 && s.totalSteps === 20))],
    // Our own captures (test/fixtures/captures/README.md).
    ['../captures/x264.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame === 96))],
    ['../captures/x265.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame === 96))],
    ['../captures/svtav1.pty.log', 96, (r) => assert.ok(r.samples.filter((s) => s?.frame != null).length > 10)],
    ['../captures/handbrake.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame != null || (s?.percent ?? 0) >= 99))],
    ['../captures/python-tqdm.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.step === 120 && s.totalSteps === 120))],
    ['../captures/ffmpeg-libx265.pty.log', null, (r) => assert.is(r.samples.filter(Boolean).at(-1)?.frame, 96)],
    ['../captures/ffmpeg-progress-pipe.pty.log', null, (r) => assert.ok(r.samples.some((s) => s?.frame != null || (s?.percent ?? 0) >= 99))],
    // HandBrakeCLI --json: multi-line `Progress: {…}` blocks, until WORKDONE.
    ['../captures/handbrake-json.pty.log', null, (r) => {
      const readings = r.samples.filter((s) => s?.format === 'handbrake');
      assert.ok(readings.length >= 4, `${readings.length} JSON blocks read`);
      assert.ok(readings.every((s) => s?.encoderEtaSeconds !== 0), 'an unknown ETA (Hours -1) is not 0 s');
    }],
  ];
  for (const [name, totalFrames, more] of captures) {
    const reading = await read(corpusFile(name), totalFrames);
    more(reading);
    const { progress } = reading;
    const last = progress.at(-1)!;
    assert.ok(last >= 99, `${name}: reaches the end, got ${last}`);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!, `${name}: never backwards`);
  }
});

test.run();
