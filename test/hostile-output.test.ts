// Output an encoder (or anything a job runs) may print to hurt the daemon: megabyte lines, lines
// built to make regular expressions backtrack, a job's own catastrophic pattern. Everything stays
// bounded in memory and linear in time, and the daemon keeps answering meanwhile.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { from, lastValueFrom, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_RECORD_CHARS, splitRecords } from '../src/progress/lines.js';
import { compilePattern, createPatternParser } from '../src/progress/parsers/pattern.js';
import { JobLogFile } from '../src/runner/job-log.js';
import { LOG_TAIL_CHARS, LogTail } from '../src/runner/log-tail.js';
import { waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';
import { sampleEvery } from './helpers/wait.js';

const run = promisify(execFile);
const CATASTROPHIC = '^(a+)+$|(?<percent>\\d+)%';

test('a record is cut at the limit, however long the line, and says how much was cut', async () => {
  const chunk = '7'.repeat(64 * 1024);
  const chunks = [...Array.from({ length: 160 }, () => chunk), '\nframe= 12 fps=3.0\n'];
  const records = await lastValueFrom(from(chunks).pipe(splitRecords(), toArray()));
  assert.is(records.length, 2);
  assert.ok(records[0]!.length < MAX_RECORD_CHARS + 100, `cut to ${records[0]!.length}`);
  assert.match(records[0]!, `[encsup cut ${160 * chunk.length - MAX_RECORD_CHARS} more characters of this line]`);
  assert.is(records[1], 'frame= 12 fps=3.0', 'the next record is whole');
});

test('every built-in parser, and a catastrophic job pattern, runs in linear time on megabyte records', async () => {
  const script = fileURLToPath(new URL('./helpers/parse-hostile.ts', import.meta.url));
  // Linear parsing takes seconds for all of them together; one quadratic parser takes hours.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, CATASTROPHIC], { timeout: 180_000, maxBuffer: 1024 * 1024 });
  const slowest = JSON.parse(stdout) as { ms: number; what: string };
  console.log(`  slowest single parse of a 1 MB record: ${slowest.ms.toFixed(1)} ms (${slowest.what})`);
});

test('a job pattern runs on RE2: backtracking constructs are refused with a reason, others work', () => {
  const parse = createPatternParser(CATASTROPHIC);
  assert.is(parse(`${'a'.repeat(28)}!`), null);
  assert.is(parse('done 45%')?.percent, 45);
  assert.throws(() => compilePattern('(?=(?<percent>\\d+))'), /linear-time engine \(RE2\)/);
  assert.throws(() => compilePattern('(?<percent>\\d+)\\1'), /linear-time engine \(RE2\)/);
});

test('the log tail is capped in characters, and a job log file in bytes, dropping the oldest output with a marker', async () => {
  const tail = new LogTail();
  for (let i = 0; i < 200; i++) tail.push(`${i} ${'x'.repeat(5000)}`);
  const kept = tail.lines();
  assert.ok(kept.join('').length <= LOG_TAIL_CHARS + 2048, `tail holds ${kept.join('').length} characters`);
  assert.match(kept.at(-1)!, /^199 /);

  const dir = tempDir();
  try {
    const path = join(dir.path, 'job.log');
    const errors: unknown[] = [];
    const log = new JobLogFile(path, 256 * 1024, (error) => errors.push(error));
    // Lines alone and in batches of a read's size, as a runner hands them over.
    for (let i = 0; i < 4000; ) {
      const size = i % 3 === 0 ? 1 : 10;
      log.writeLines(Array.from({ length: Math.min(size, 4000 - i) }, (_, at) => `line ${i + at} ${'y'.repeat(200)}`));
      i += size;
    }
    await log.end();
    const text = readFileSync(path, 'utf8');
    assert.equal(errors, []);
    assert.ok(statSync(path).size <= 256 * 1024 + 1024, `log is ${statSync(path).size} bytes`);
    assert.match(text.split('\n')[0]!, /^\[encsup: \d+ bytes of earlier output were dropped/);
    assert.match(text, /line 3999 y+\n$/, 'the newest output is kept');
    // What is kept is whole lines in order; where some were dropped, a line says so.
    let previous: number | null = null;
    let marked = false;
    for (const line of text.split('\n').slice(1, -1)) {
      if (/^\[encsup: \d+ bytes of output were dropped here/.test(line)) {
        marked = true;
        continue;
      }
      const number = Number(/^line (\d+) y+$/.exec(line)?.[1]);
      assert.ok(Number.isInteger(number), `a whole line: ${line.slice(0, 40)}`);
      if (previous !== null && number !== previous + 1) assert.ok(marked, `lines ${previous + 1} to ${number - 1} went without a marker`);
      previous = number;
      marked = false;
    }
    assert.is(statSync(path).mode & 0o777, 0o600);
  } finally {
    dir.remove();
  }
});

test('a job that prints 100 MB on one line, and one whose pattern is catastrophic, leave the daemon answering', async () => {
  await withTestDaemon({ maxLogBytes: 1024 * 1024 }, async ({ api, url, dir }) => {
    const latencies: number[] = [];
    const failures: string[] = [];
    const probe = sampleEvery(50, async () => {
      const start = performance.now();
      try {
        const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
        if (response.status !== 200) failures.push(`status ${response.status}`);
        latencies.push(performance.now() - start);
      } catch (error) {
        failures.push((error as Error).message);
      }
    });
    const flood = await api.submit({ command: "head -c 100000000 /dev/zero | tr '\\0' 7; echo; echo 'frame= 5 fps=1.0 time=00:00:01.00 speed=1x'", shell: true, name: 'flood' });
    const pattern = await api.submit({ command: `printf '${'a'.repeat(28)}!\\n'; sleep 0.3; echo '50%'; sleep 0.3`, shell: true, pattern: CATASTROPHIC });
    const [flooded, patterned] = await Promise.all([waitForStatus(api, flood.id, ['done', 'failed'], 120_000), waitForStatus(api, pattern.id, ['done', 'failed'])]);
    await probe.stop();
    assert.is(flooded.status, 'done', flooded.error ?? '');
    assert.is(patterned.status, 'done', patterned.error ?? '');
    assert.equal(failures, [], '/healthz answered every probe within 2 s');
    assert.ok(latencies.length >= 5, `probed ${latencies.length} times`);
    console.log(`  /healthz during a 100 MB line: ${latencies.length} probes, max ${Math.max(...latencies).toFixed(0)} ms`);
    assert.ok(flooded.logTail.join('').length <= LOG_TAIL_CHARS + 2048, 'the stored tail stays small');
    assert.ok(statSync(join(dir.path, 'logs', `${flood.id}.log`)).size <= 1024 * 1024, 'the log file stays under its cap');
  });
});

test.run();
