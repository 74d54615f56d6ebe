// Each parser's byte check turns away only lines its parser would not read: over every record of
// the corpus and our captures, and over those records cut and spliced at random, a line a parser
// reads always passes its check. Otherwise the check would hide progress that the parser sees.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, of, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { splitRecords } from '../src/progress/lines.js';
import { CHECKED_PARSERS } from '../src/progress/parsers/index.js';
import { FIXTURES_DIR } from './helpers/corpus.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith('.md') ? [] : [join(dir, entry.name)]));
}

// The forms the generic readers' own comments name, which no encoder of the corpus prints.
const DOCUMENTED_FORMS = ['45%', 'Progress: 45.5 %', 'progress: 0.45', 'Processing 12/120', 'item 12 of 120', '[12/120]', '(12/120)', 'Step 5/50', 'Rendering animation frame 12 of 120', 'Animation frame: 12/120', 'frame 12/120'];

/** Every record of the corpus and the captures, as a terminal stream is split into them, and the documented forms. */
async function corpusRecords(): Promise<string[]> {
  const files = [...filesUnder(join(FIXTURES_DIR, 'corpus')), ...filesUnder(join(FIXTURES_DIR, 'captures'))];
  const records = await Promise.all(files.map((file) => lastValueFrom(of(readFileSync(file, 'utf8')).pipe(splitRecords(), toArray()))));
  return [...records.flat(), ...DOCUMENTED_FORMS];
}

test('a record any parser reads passes that parser’s check, for every record of the corpus', async () => {
  const records = await corpusRecords();
  for (const [name, [mayBe, parse]] of Object.entries(CHECKED_PARSERS)) {
    const read = records.filter((record) => parse(record) !== null);
    assert.ok(read.length > 0, `the corpus has lines that ${name} reads`);
    const turnedAway = read.filter((record) => !mayBe(record));
    assert.equal(turnedAway, [], `${name}'s check turns away lines it reads`);
  }
});

test('the same holds for corpus lines cut and spliced at random', async () => {
  const records = await corpusRecords();
  for (const [name, [mayBe, parse]] of Object.entries(CHECKED_PARSERS)) {
    const read = records.filter((record) => parse(record) !== null);
    const spliced = fc.tuple(fc.constantFrom(...read), fc.nat(), fc.nat(), fc.string({ maxLength: 12 }), fc.constantFrom(...records)).map(([line, from, length, inserted, other]) => {
      const at = from % (line.length + 1);
      const piece = other.slice(0, length % 40);
      return line.slice(0, at) + inserted + piece + line.slice(at + (length % 8));
    });
    fc.assert(
      fc.property(spliced, (line) => {
        if (parse(line) !== null && !mayBe(line)) throw new Error(`${name}'s check turns away a line it reads: ${JSON.stringify(line)}`);
      }),
      { numRuns: 2000 },
    );
  }
});

test('lines around the status lines are turned away by the checks alone', () => {
  // ffmpeg's header and summary, x264's info lines: no check of an encoder's format lets them
  // through. (The loose generic readers are asked only until an encoder's format is recognised.)
  const around = [
    'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2025 the FFmpeg developers',
    "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'in.mp4':",
    '  Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 128 kb/s (default)',
    'Stream mapping:',
    "[libx264 @ 0x55d4c3f0a2c0] kb/s:1178.25",
    'x264 [info]: using cpu capabilities: MMX2 SSE2Fast SSSE3 SSE4.2 AVX FMA3 BMI2 AVX2',
    'x265 [info]: Coding QT: max CU size, min CU size : 64 / 8',
  ];
  const encoders = Object.entries(CHECKED_PARSERS).filter(([name]) => name !== 'genericCounter' && name !== 'plainPercent');
  const passing = around.flatMap((line) => encoders.filter(([, [mayBe]]) => mayBe(line)).map(([name]) => `${name}: ${line}`));
  assert.equal(passing, []);
});

test.run();
