// The job file's lines and the file store's upkeep: lines read back by id without parsing the
// record, torn lines told from whole ones, offsets that find a line again, and a rewrite that
// keeps only each job's latest line.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openFileStore } from '../src/store/file-store.js';
import { LineSplitter, lineId, readLine, recordLine, removalLine, summaryRowOf } from '../src/store/job-file.js';
import { summarize, summaryRow } from '../src/store/job-summary.js';
import { aJob } from './helpers/jobs.js';
import { loadWhole } from './helpers/load-whole.js';
import { withTempDir } from './helpers/temp.js';

test('a line is known by its id from its start and end; a torn or foreign line is parsed or refused', () => {
  const json = JSON.stringify({ ...aJob('a1'), name: 'ends with a quote"}' });
  const whole = recordLine('a1', 'queued', json);
  assert.equal(lineId(Buffer.from(whole)), { kind: 'record', id: 'a1', status: 'queued', rest: 29 });
  assert.equal(readLine(whole), { kind: 'record', id: 'a1', status: 'queued', json });
  assert.equal(lineId(Buffer.from(removalLine('a1'))), { kind: 'removed', id: 'a1' });
  // Cut right after an escaped quote and brace inside the record: not a whole line.
  const cut = whole.slice(0, whole.indexOf('\\"}') + 3);
  assert.ok(cut.endsWith('"}'));
  assert.equal(lineId(Buffer.from(cut)), { kind: 'unreadable' });
  assert.equal(lineId(Buffer.from(whole.slice(0, 60))), { kind: 'unreadable' });
  // Written by nedb with its keys in another order: parsed, and found all the same.
  assert.equal(lineId(Buffer.from(JSON.stringify({ status: 'done', json: '{}', _id: 'n1' }))), { kind: 'record', id: 'n1', status: 'done', rest: -1 });
  assert.equal(lineId(Buffer.from('{"$$indexCreated":{"fieldName":"status"}}')), { kind: 'other' });
});

test('a start reads a finished job\'s summary, not its record: a damaged record shows when the job is read, and is set aside then; a summary that does not hold is passed over for the record', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir.path, 'jobs.db');
    const done = aJob('d1', { status: 'done', progress: 100, name: 'quote " and ,"json":" inside' });
    const damaged = aJob('d2', { status: 'failed' });
    const lying = aJob('d3', { status: 'done', progress: 100 });
    const row = summaryRow(summarize(lying));
    writeFileSync(
      file,
      [
        recordLine(done.id, done.status, JSON.stringify(done), summarize(done)),
        recordLine(damaged.id, damaged.status, '{"id":"d2","status":"failed"', summarize(damaged)),
        // A summary whose fields are not what they should be: the record decides.
        JSON.stringify({ _id: lying.id, status: lying.status, summary: row.map((value) => (value === 0 ? 'high' : value)), json: JSON.stringify(lying) }),
      ].join('\n') + '\n',
    );
    const store = await openFileStore(file);
    const { active, finished, problems } = await store.load();
    assert.equal([active, problems], [[], []]);
    assert.equal([...finished.values()].sort((a, b) => a.id.localeCompare(b.id)), [summarize(done), summarize(damaged), summarize(lying)]);
    assert.equal(await store.read('d1'), done);
    assert.equal(await store.read('d3'), lying);
    assert.is(await store.read('d2'), undefined, 'a record that is not a job is no job');
    await store.sync();
    const quarantined = readFileSync(join(dir.path, 'quarantine.jsonl'), 'utf8');
    assert.match(quarantined, '"id":"d2"');
    assert.equal([...(await store.load()).finished.keys()].sort(), ['d1', 'd3'], 'set aside, not kept');
    await store.close();
  });
});

test('a summary row reads the same as JSON.parse reads it, whatever it holds; what is not JSON is no row', () => {
  const values = ['plain', 'é ünïcode 映画', 'quote " inside', 'back\\slash', 'tab\tand\nnewline', '', '],"json":"', 0, 7, -3, 1795779169308, 1.5, -0.25, 1e21, null, true, [1], { a: 1 }];
  let seed = 17;
  const random = (below: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % below;
  const rows: string[] = ['[]', '[1,]', '[,1]', '["a"', '[nul]', '[01]', '[-]', '["a" ,1]', '[1 ]', '["\u0041"]', '[1e5]', '[-0]'];
  for (let i = 0; i < 400; i++) rows.push(JSON.stringify(Array.from({ length: random(12) }, () => values[random(values.length)])));
  for (const row of rows) {
    const line = Buffer.from(`{"_id":"a1","status":"done","summary":${row},"json":"{}"}`);
    const id = lineId(line);
    let expected: unknown;
    try {
      expected = JSON.parse(row);
    } catch {
      expected = undefined;
    }
    assert.ok(id.kind === 'record', row);
    assert.equal(summaryRowOf(line, id.kind === 'record' ? id.rest : -1), expected, row);
  }
});

test('lines split from chunks cut anywhere carry their byte offsets and numbers', () => {
  const text = 'é1\n\n{"x":2}\nlast';
  const seen: [string, number, number, number][] = [];
  const splitter = new LineSplitter((bytes, start, end, offset, number) => seen.push([bytes.toString('utf8', start, end), offset, end - start, number]));
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += 3) splitter.push(bytes.subarray(at, at + 3));
  splitter.end();
  assert.equal(seen, [
    ['é1', 0, 3, 1],
    ['{"x":2}', 5, 7, 3],
    ['last', 13, 4, 4],
  ]);
});

test('the file is rewritten with only each job\'s latest line, and loads the same after', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir.path, 'jobs.db');
    const store = await openFileStore(file);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) await store.put(aJob(`j${i}`, { progressUpdates: round }));
      await store.sync();
    }
    await store.remove('j7');
    const before = statSync(file).size;
    await store.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.is(lines.length, 49, 'one line a job, the removed one gone');
    assert.ok(statSync(file).size < before / 2);
    const again = await openFileStore(file);
    const { jobs, problems } = await loadWhole(again);
    assert.equal(problems, []);
    assert.is(jobs.length, 49);
    assert.ok(jobs.every((job) => job.progressUpdates === 2), 'the latest version of each');
    await again.put(aJob('j1', { status: 'done', progress: 100 }));
    await again.sync();
    await again.close();
    const third = await openFileStore(file);
    assert.is((await loadWhole(third)).jobs.find((job) => job.id === 'j1')?.status, 'done', 'written after the rewrite, where the new file is');
    await third.close();
  });
});

test('a rewrite larger than one chunk keeps every job whole and in place', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir.path, 'jobs.db');
    const store = await openFileStore(file);
    const count = 4000; // about 6 MB of records: the rewrite copies them in several chunks
    for (const round of [0, 1]) {
      for (let i = 0; i < count; i++) await store.put(aJob(`j${i}`, { progressUpdates: round, logTail: [`line ${i} é`] }));
      await store.sync();
    }
    await store.close();
    assert.ok(statSync(file).size > 2 * 1024 * 1024, 'several read chunks');
    const again = await openFileStore(file);
    const { jobs, problems } = await loadWhole(again);
    assert.equal(problems, []);
    assert.is(jobs.length, count);
    assert.ok(jobs.every((job) => job.progressUpdates === 1 && job.logTail[0] === `line ${job.id.slice(1)} é`));
    await again.close();
  });
});

test('writes go on while the file is rewritten, and none of them is lost; reads find each job meanwhile', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir.path, 'jobs.db');
    const store = await openFileStore(file);
    const count = 3000;
    // Five versions of each job: the superseded lines pass the mark at the last sync, which starts the rewrite.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < count; i++) await store.put(aJob(`j${i}`, { progressUpdates: round, logTail: ['x'.repeat(500)] }));
      await store.sync();
    }
    const before = statSync(file).ino;
    // Changes made and synced until the rewritten file is renamed into place: a rewrite that held
    // writes up from its start would let none through.
    let during = 0;
    let durable = 0;
    const changed = new Map<string, number>();
    while (statSync(file).ino === before) {
      const id = `j${during % count}`;
      await store.put(aJob(id, { progressUpdates: 100 + during, status: during % 2 === 0 ? 'done' : 'queued' }));
      await store.sync();
      if (statSync(file).ino === before) durable++;
      changed.set(id, 100 + during);
      assert.is((await store.read(`j${(during * 7) % count}`))?.id, `j${(during * 7) % count}`, 'a read meanwhile');
      during++;
      if (during > 20_000) assert.unreachable('the file was never rewritten');
    }
    assert.ok(durable > 0, 'changes were made durable during the rewrite');
    await store.remove('j1');
    await store.sync();
    await store.close();
    const again = await openFileStore(file);
    const { jobs, problems } = await loadWhole(again);
    assert.equal(problems, []);
    assert.is(jobs.length, count - 1);
    for (const job of jobs) assert.is(job.progressUpdates, changed.get(job.id) ?? 4, `${job.id}: its latest version`);
    await again.close();
  });
});

test.run();
