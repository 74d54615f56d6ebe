// A job's log file (src/runner/job-log.ts): when lines reach the file. The cap and its markers are
// held by hostile-output.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JobLogFile } from '../src/runner/job-log.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

test('the first lines after a quiet spell are written at once; lines that follow within the gathering time wait for it, or for the end', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir.path, 'job.log');
    const errors: unknown[] = [];
    // A gathering time longer than the test: what is held is written by `end`, not by the timer.
    const log = new JobLogFile(path, 1024 * 1024, (error) => errors.push(error), 600_000);
    log.writeLines(['frame=  1 fps=0.0']);
    await until(() => read(path).includes('frame=  1'), 'the first line in the file');
    log.writeLines(['frame= 12 fps=24']);
    log.writeLines(['frame= 24 fps=24']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(read(path), 'frame=  1 fps=0.0\n', 'the lines that came after it are held');
    await log.end();
    assert.is(read(path), 'frame=  1 fps=0.0\nframe= 12 fps=24\nframe= 24 fps=24\n');
    assert.equal(errors, []);
  });
});

test.run();
