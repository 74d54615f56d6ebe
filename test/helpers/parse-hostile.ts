// Runs every parser over the hostile records in a process of its own (`node --import tsx` this
// file), so that a parser gone quadratic shows as a process that missed its deadline (hours of
// work, where linear parsing takes seconds) instead of a test run that never ends. Prints the
// slowest single parse as JSON.
import { PARSER_NAMES } from '../../machines/job-record.js';
import { createParser } from '../../src/progress/parsers/index.js';
import { readSamples } from './corpus-samples.js';
import { hostileRecords } from './hostile-records.js';

const pattern = process.argv[2]!;
const realLines = ['ffmpeg-stderr.txt', 'x264.txt', 'x265.txt', 'tqdm.txt', 'ffmpeg-progress-pipe.txt', 'svtav1.txt', 'handbrake.txt'].flatMap((file) => {
  try {
    return readSamples(`public/${file}`).slice(0, 3).flatMap((sample) => sample.lines.slice(0, 1));
  } catch {
    return [];
  }
});
let slowest = { ms: 0, what: '' };
for (const { name, record } of hostileRecords(realLines)) {
  // The job pattern runs on RE2, linear but slower: the synthetic records are enough for it.
  for (const parser of PARSER_NAMES.filter((each) => each !== 'pattern' || !name.startsWith('grown'))) {
    const parse = createParser({ parser, pattern: parser === 'pattern' ? pattern : null });
    const start = performance.now();
    parse(record);
    const ms = performance.now() - start;
    if (ms > slowest.ms) slowest = { ms, what: `${parser} on ${name}` };
  }
}
process.stdout.write(JSON.stringify(slowest));
