import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JobQueue, freeSlots } from '../machines/job-queue.js';

const job = (id: string, priority: number, createdAt: string) => ({ id, priority, createdAt });

test('the highest priority runs first, then the oldest', () => {
  const queue = new JobQueue();
  queue.enqueue(job('low-old', -10, '2026-01-01T00:00:00.000Z'));
  queue.enqueue(job('normal-new', 0, '2026-01-01T00:00:05.000Z'));
  queue.enqueue(job('normal-old', 0, '2026-01-01T00:00:01.000Z'));
  queue.enqueue(job('high', 10, '2026-01-01T00:00:09.000Z'));
  assert.equal(queue.toArray().map((each) => each.id), ['high', 'normal-old', 'normal-new', 'low-old']);
  assert.is(queue.dequeue()?.id, 'high');
  assert.is(queue.size, 3);
});

test('jobs created in the same millisecond leave in the order they came', () => {
  const queue = new JobQueue();
  for (const id of ['a', 'b', 'c', 'd']) queue.enqueue(job(id, 0, '2026-01-01T00:00:00.000Z'));
  assert.equal([queue.dequeue()?.id, queue.dequeue()?.id, queue.dequeue()?.id, queue.dequeue()?.id], ['a', 'b', 'c', 'd']);
  assert.is(queue.dequeue(), undefined);
});

test('a waiting job can be taken out by id', () => {
  const queue = new JobQueue();
  queue.enqueue(job('a', 0, '2026-01-01T00:00:00.000Z'));
  queue.enqueue(job('b', 0, '2026-01-01T00:00:01.000Z'));
  assert.is(queue.remove('a')?.id, 'a');
  assert.is(queue.remove('a'), undefined);
  assert.is(queue.size, 1);
  assert.is(queue.dequeue()?.id, 'b');
});

test('a large line in random order comes out sorted by priority, then age, then submission', () => {
  const queue = new JobQueue();
  const jobs = Array.from({ length: 2000 }, (_, i) => job(`j${i}`, (i * 7919) % 21 - 10, new Date(1_767_225_600_000 + ((i * 104729) % 500)).toISOString()));
  for (const each of jobs) queue.enqueue(each);
  assert.is(queue.remove('j5')?.id, 'j5');
  const order: string[] = [];
  for (let next = queue.dequeue(); next; next = queue.dequeue()) order.push(next.id);
  const expected = jobs
    .map((each, seq) => ({ ...each, seq }))
    .filter((each) => each.id !== 'j5')
    .sort((a, b) => b.priority - a.priority || Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.seq - b.seq)
    .map((each) => each.id);
  assert.equal(order, expected);
});

test('free slots respect the cap, and 0 means no cap', () => {
  assert.is(freeSlots(0, 2, 5), 2);
  assert.is(freeSlots(2, 2, 5), 0);
  assert.is(freeSlots(3, 2, 5), 0, 'a lowered cap starts nothing until running jobs finish');
  assert.is(freeSlots(1, 3, 1), 1);
  assert.is(freeSlots(50, 0, 7), 7);
});

test.run();
