import { readdirSync, readFileSync } from 'node:fs';
import { from, lastValueFrom, mergeAll, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type OperatorFunction } from 'rxjs';
import { type RecordBatch, cleanRecord, redrawsSameLine, splitRecordBatches, splitRecords, splitRecordsApart } from '../src/progress/lines.js';
import { createParser } from '../src/progress/parsers/index.js';
import { readProgress } from '../src/progress/pipeline.js';
import { corpusFile } from './helpers/corpus.js';

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

test('live: a count that the same read draws over with a count no lower is not a record; one that goes back is', async () => {
  const bs = '\b'.repeat(9);
  const state = (count: number) => `${String(count).padStart(9)}${bs}`;
  // Each read's last state stays (nothing in the read draws over it), and so does the line left
  // when the backspaces erase the last count.
  const live = (chunks: string[]) => lastValueFrom(from(chunks).pipe(splitRecordBatches(), mergeAll(), toArray()));
  const lines = await live([`Encoding          ${bs}${state(1)}${state(2)}${state(3)}`, `${state(4)}${state(5)}\n`]);
  assert.equal(lines, ['Encoding', 'Encoding         3', 'Encoding         5', 'Encoding']);
  // The count went back (a second pass): the last word of the first stays.
  assert.equal(await live([`Encoding          ${bs}${state(8)}${state(9)}${state(1)}${state(2)}\n`]), ['Encoding', 'Encoding         9', 'Encoding         2', 'Encoding']);
  // A digit before the count: a reader compares that one, so every state stays for it.
  assert.equal(await live(['Pass 2:   \b\b\b  5\b\b\b  6\b\b\b  7\b\b\b\n']), ['Pass 2:', 'Pass 2:  5', 'Pass 2:  6', 'Pass 2:  7', 'Pass 2:']);
  // Backspaces that erase more than the count leave another line each time.
  assert.equal(await live(['Frames:   1\b\b\b\b  2\b\b\b\b  3\n']), ['Frames:   1', 'Frames:  2', 'Frames  3']);
  // A log read after the fact (splitRecords) keeps every state: each was printed at its own time.
  assert.equal((await split([`Encoding          ${bs}${state(1)}${state(2)}${state(3)}\n`])).length, 5);
});

test('live reads of the real SVT-AV1 captures, in reads of any size, end where reading every record ends', async () => {
  for (const [name, totalFrames] of [['svtav1.pty.log', 240], ['../captures/svtav1.pty.log', 96]] as const) {
    const text = corpusFile(name);
    const readWith = async (split: OperatorFunction<string, RecordBatch>, chunks: string[]) => {
      let clock = 0;
      const parse = createParser({ parser: 'auto' });
      return lastValueFrom(from(chunks).pipe(split, readProgress({ parse, known: { totalFrames }, nowMs: () => (clock += 100), startMs: 0 }), toArray()));
    };
    const everyRecord = (await readWith(splitRecordsApart(), [text])).at(-1)!.fields;
    assert.is(everyRecord.frame, totalFrames, name);
    for (const size of [text.length, 65536, 4096, 97, 18, 7]) {
      const updates = await readWith(splitRecordBatches(), chunksOf(text, size));
      assert.equal(updates.at(-1)!.fields, everyRecord, `${name} in reads of ${size}`);
      for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.fields.frame! >= updates[i - 1]!.fields.frame!, `${name} in reads of ${size}: never backwards`);
    }
  }
});

test('a counter with colour codes, redrawn with backspaces in later reads, shows no codes in any record', async () => {
  const lines = await split(['\u001b[1;32mEncoding\u001b[0m:  ', '  5\b\b\b', ' 10\b\b\b\u001b[33m 15\u001b[0m\b\b\b', ' 20\n']);
  assert.equal(lines, ['Encoding:    5', 'Encoding:   10', 'Encoding:   15', 'Encoding:   20']);
});

test('a batch names the records the same line drew over: a lone \\r or backspaces, not a line end', async () => {
  const batches = await lastValueFrom(
    from([' 10%|█ | 1/10\r 20%|██ | 2/10\r\nkept\nEncoding   1\b\b\b\b  2\r\r\n', 'last\r']).pipe(splitRecordBatches(), toArray()),
  );
  assert.equal([...batches[0]!], [' 10%|█ | 1/10', ' 20%|██ | 2/10', 'kept', 'Encoding   1', 'Encoding  2']);
  // The 20 % line ended in \r\n, "Encoding  2" in a \r that the \r\n after it left empty.
  assert.equal(batches[0]!.redrawn, [0, 3, 4]);
  assert.equal([...batches[1]!], ['last']);
  assert.equal(batches[1]!.redrawn, [0]);
  const plain = await lastValueFrom(from(['a 1\nb 2\r\n']).pipe(splitRecordBatches(), toArray()));
  assert.is(plain[0]!.redrawn, undefined, 'lines that end their line draw over nothing');
});

test('a line drawn over is the same status line when both read alike up to their first digit', () => {
  assert.ok(redrawsSameLine('[0.4%] 1/240 frames', '[24.2%] 58/240 frames'));
  assert.ok(redrawsSameLine('Sampling:  45%|████▌     | 45/100', 'Sampling:  46%|████▋     | 46/100'));
  assert.ok(redrawsSameLine('Encoding: task 1 of 2, 99.50 %', 'Encoding: task 2 of 2, 0.50 %'));
  assert.not.ok(redrawsSameLine('Sampling:  45%|████▌ | 45/100', 'Decoding:  10%|█     | 1/10'), 'another bar');
  assert.not.ok(redrawsSameLine('Loading model', 'Loading model'), 'no number: nothing to say it is a status');
  assert.not.ok(redrawsSameLine('frame=', 'frame=  12'));
  assert.ok(redrawsSameLine('Rendering:   9%|', 'Rendering:  10%|'), 'a right-aligned number');
  assert.not.ok(redrawsSameLine('Step 9/10', 'Steps 10/10'));
  assert.not.ok(redrawsSameLine('[99.5%] 995/1000 frames', '[0.5%] 5/1000 frames'), 'the count went back: the next pass');
  assert.not.ok(redrawsSameLine('Sampling: 100%|██████████| 50/50', 'Sampling:   2%|▏         | 1/50'), 'the bar starts again');
  assert.ok(redrawsSameLine('[9.5%] 95/1000', '[10.25%] 102/1000'));
});

test('blank records are dropped', async () => {
  assert.equal(await split(['\r\r\n  \r\nx\n']), ['x']);
});

test('records are the same however the output is cut into reads, plain or with control codes', async () => {
  const corpus = new URL('./fixtures/corpus/', import.meta.url);
  // Backspaces (a run of them cut between reads is one run) and colour codes included.
  const captures = readdirSync(corpus)
    .filter((name) => name.endsWith('.pty.log'))
    .map((name) => ({ name, text: readFileSync(new URL(name, corpus), 'utf8') }));
  assert.ok(captures.length >= 5);
  assert.ok(captures.some(({ text }) => text.includes('\u001b')));
  assert.ok(captures.some(({ text }) => text.includes('\b')));
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
