import { readdirSync, readFileSync } from 'node:fs';
import { from, lastValueFrom, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanRecord, splitRecords } from '../src/progress/lines.js';

const split = (chunks: string[], maxChars?: number) => lastValueFrom(from(chunks).pipe(splitRecords(maxChars), toArray()));
const chunksOf = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, at) => text.slice(at * size, (at + 1) * size));

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

test('records are the same however the output is cut into reads, plain or with control codes', async () => {
  const corpus = new URL('./fixtures/corpus/', import.meta.url);
  // A run of backspaces cut between reads shows what the terminal showed between them (a record of
  // its own), so captures with backspaces are left out here; colour codes stay in.
  const captures = readdirSync(corpus)
    .filter((name) => name.endsWith('.pty.log'))
    .map((name) => ({ name, text: readFileSync(new URL(name, corpus), 'utf8') }))
    .filter(({ text }) => !text.includes('\b'));
  assert.ok(captures.length >= 5);
  assert.ok(captures.some(({ text }) => text.includes('\u001b')));
  // One character a read takes the record-by-record path throughout: the reference.
  for (const { name, text } of captures) {
    const expected = await split([...text]);
    assert.ok(expected.length > 2, name);
    for (const size of [65536, 4096, 97, 7]) assert.equal(await split(chunksOf(text, size)), expected, `${name} in reads of ${size}`);
  }
  const long = `head\r${'x'.repeat(50)}\r\nframe=  1 fps=1\r  \r\nframe=  2 fps=1\rtail`;
  const expected = await split([...long], 20);
  assert.equal(expected[1], `${'x'.repeat(20)} … [encsup cut 30 more characters of this line]`);
  for (const size of [1000, 30, 13, 3]) assert.equal(await split(chunksOf(long, size), 20), expected, `reads of ${size}`);
});

test.run();
