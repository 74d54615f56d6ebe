// Listing thousands of jobs a page at a time: stable orders, a cursor that neither repeats nor
// skips a job while others arrive, counts per status, search; and `encsup list` on top of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import { listPage } from '../src/jobs/job-listing.js';
import { type JobSummary, summarize } from '../src/store/job-summary.js';
import { sinceTime } from '../src/cli/commands/job-commands.js';
import { cli } from './helpers/cli.js';
import { waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { aJob } from './helpers/jobs.js';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

function sampleJobs(): JobSummary[] {
  return [
    aJob('done-old', { status: 'done', createdAt: at(1), finishedAt: at(10) }),
    aJob('done-new', { status: 'done', createdAt: at(2), finishedAt: at(20) }),
    aJob('run-b', { status: 'encoding', createdAt: at(3), startedAt: at(15) }),
    aJob('run-a', { status: 'encoding', createdAt: at(4), startedAt: at(12) }),
    aJob('wait-low', { status: 'queued', createdAt: at(5), priority: -10 }),
    aJob('wait-first', { status: 'queued', createdAt: at(6), priority: 0 }),
    aJob('wait-high', { status: 'queued', createdAt: at(7), priority: 10, name: 'Trailer 4K', command: ['ffmpeg', '-i', 'trailer.mov', 'x.mp4'] }),
    aJob('failed-1', { status: 'failed', createdAt: at(8), finishedAt: at(30), error: 'ffmpeg exited with code 1' }),
  ].map(summarize);
}

test('view order: running (oldest start first), waiting as they will start, finished newest first; counts for all', () => {
  const page = listPage(sampleJobs(), { order: 'view', limit: 100 });
  assert.equal(page.jobs.map((job) => job.id), ['run-a', 'run-b', 'wait-high', 'wait-first', 'wait-low', 'failed-1', 'done-new', 'done-old']);
  assert.equal(page.counts, { queued: 3, encoding: 2, finalizing: 0, done: 2, failed: 1, cancelled: 0 });
  assert.equal([page.matched, page.next], [8, null]);
  assert.equal(listPage(sampleJobs(), { order: 'newest', limit: 3 }).jobs.map((job) => job.id), ['failed-1', 'wait-high', 'wait-first']);
});

test('pages follow each other by cursor without repeats or gaps, even as jobs arrive in between', () => {
  const jobs = sampleJobs();
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let round = 0; round < 10; round++) {
    const page = listPage(jobs, { order: 'oldest', limit: 3, cursor });
    seen.push(...page.jobs.map((job) => job.id));
    // A new job arrives between pages: it sorts last (newest), so it is on a later page, once.
    jobs.push(summarize(aJob(`late-${round}`, { createdAt: at(40 + round) })));
    cursor = page.next;
    if (cursor === null) break;
  }
  assert.is(new Set(seen).size, seen.length, 'no job twice');
  assert.ok(sampleJobs().every((job) => seen.includes(job.id)), 'none skipped');
});

test('every page is the next slice of the whole list in its order, for each order and page size, over jobs in any order', () => {
  const statuses = ['queued', 'encoding', 'done', 'failed', 'cancelled'] as const;
  // A fixed pseudo-random spread of statuses, times and priorities, with ties on every key.
  let seed = 7;
  const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const jobs = Array.from({ length: 300 }, (_, i) => {
    const status = statuses[next(5)]!;
    const created = next(40);
    return summarize(aJob(`job-${next(1000)}-${i}`, { status, priority: next(3) - 1, createdAt: at(created), startedAt: status === 'encoding' ? at(created + next(5)) : null, finishedAt: ['done', 'failed', 'cancelled'].includes(status) ? at(created + next(10)) : null }));
  });
  for (const order of ['view', 'newest', 'oldest'] as const) {
    const whole = listPage(jobs, { order, limit: 1000 }).jobs.map((job) => job.id);
    assert.is(whole.length, 300);
    for (const limit of [1, 7, 100, 299, 300]) {
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = listPage(jobs, { order, limit, cursor });
        assert.ok(page.jobs.length <= limit);
        paged.push(...page.jobs.map((job) => job.id));
        cursor = page.next;
      } while (cursor !== null);
      assert.equal(paged, whole, `${order}, pages of ${limit}`);
    }
  }
});

test('search matches name, command, output and an id prefix; since filters by submission', () => {
  const jobs = sampleJobs();
  assert.equal(listPage(jobs, { order: 'view', limit: 10, q: 'trailer' }).jobs.map((job) => job.id), ['wait-high']);
  assert.equal(listPage(jobs, { order: 'view', limit: 10, q: 'done-' }).jobs.map((job) => job.id).sort(), ['done-new', 'done-old']);
  assert.is(listPage(jobs, { order: 'view', limit: 10, sinceMs: Date.parse(at(7)) }).matched, 2);
  assert.is(sinceTime('2h', Date.parse('2026-01-01T12:00:00Z')), '2026-01-01T10:00:00.000Z');
});

test('the API pages with ?limit/cursor/q/order and refuses bad values; encsup list is newest first with a reason column', async () => {
  await withTestDaemon({ maxConcurrent: 1 }, async ({ api, authed, dir, url }) => {
    const failing = await api.submit({ command: ['sh', '-c', 'exit 7'], maxAttempts: 1, name: 'broken one' });
    await waitForStatus(api, failing.id, ['failed']);
    for (let n = 0; n < 5; n++) await api.submit({ command: ['sleep', '30'], name: `sleeper ${n}` });
    const first = (await (await authed('/api/jobs?limit=2&order=newest')).json()) as { jobs: Job[]; next: string; matched: number; counts: Record<string, number> };
    assert.equal(first.jobs.map((job) => job.name), ['sleeper 4', 'sleeper 3']);
    assert.equal([first.matched, first.counts['failed']], [6, 1]);
    const second = (await (await authed(`/api/jobs?limit=2&order=newest&cursor=${first.next}`)).json()) as { jobs: Job[] };
    assert.equal(second.jobs.map((job) => job.name), ['sleeper 2', 'sleeper 1']);
    const found = (await (await authed('/api/jobs?q=BROKEN')).json()) as { jobs: Job[] };
    assert.equal(found.jobs.map((job) => job.id), [failing.id]);
    for (const bad of ['limit=0', 'limit=5000', 'order=random', 'cursor=nonsense', 'since=yesterday', `q=${'x'.repeat(201)}`]) {
      assert.is((await authed(`/api/jobs?${bad}`)).status, 400, bad);
    }
    const listed = await cli(['list', '--limit', '3', '--data-dir', dir.path, '--url', url]);
    const rows = listed.stdout.trim().split('\n');
    assert.match(rows[0]!, /ID\s+STATUS.*REASON\s+NAME/);
    assert.match(rows[1]!, /sleeper 4$/);
    assert.match(rows.at(-1)!, '(3 of 6 shown; --limit for more)');
    const failedOnly = await cli(['list', '--status', 'failed', '--data-dir', dir.path, '--url', url]);
    assert.match(failedOnly.stdout, /sh exited with code 7\s+broken one/);
    assert.is((await cli(['list', '--since', 'tuesday', '--data-dir', dir.path, '--url', url])).code, 1);
    for (const job of await api.list('queued')) await api.cancel(job.id);
    for (const job of await api.list('encoding')) await api.cancel(job.id);
  });
});

test.run();
