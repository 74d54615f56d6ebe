import { from, lastValueFrom, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanRecord, splitRecords } from '../src/progress/lines.js';

const split = (chunks: string[]) => lastValueFrom(from(chunks).pipe(splitRecords(), toArray()));

test('records end at \\r, \\n and \\r\\n, and a record cut between chunks is joined', async () => {
  const lines = await split(['frame=  1 fps', '=0.0\rframe=  2 fps=1.0\r', '\nDone\r\n', 'tail without end']);
  assert.equal(lines, ['frame=  1 fps=0.0', 'frame=  2 fps=1.0', 'Done', 'tail without end']);
});

test('ANSI colour codes are removed and backspaces applied, as a terminal shows them', () => {
  assert.is(cleanRecord('\u001b[1;32mEncoding\u001b[0m 45%'), 'Encoding 45%');
  assert.is(cleanRecord('Encoding frame   12\b\b\b\b  13'), 'Encoding frame   13');
});

test('a counter redrawn with backspaces gives a record per value, as a terminal shows it', async () => {
  const lines = await split(['Encoding          \b\b\b\b\b\b\b\b\b        1\b\b\b\b\b\b\b\b\b', '        2\b\b\b\b\b\b\b\b\b       10\r\nDone\n']);
  assert.equal(lines, ['Encoding', 'Encoding         1', 'Encoding         2', 'Encoding        10', 'Done']);
});

test('blank records are dropped', async () => {
  assert.equal(await split(['\r\r\n  \r\nx\n']), ['x']);
});

test.run();
