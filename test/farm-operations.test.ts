// Working the farm from any host: a job submitted on one host runs on another and is seen, live, in
// the first one's event stream; cancel, retry and priority from a host that does not run the job;
// hosts drained and resumed from anywhere, listed by `encsup hosts`; jobs pinned to a host or a
// label; shared storage mounted at different places on each host (--path-map).
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { localPathMapper, parsePathMaps, toFarmPaths, toLocalPaths, mapPath } from '../src/farm/path-map.js';
import { newJobRecord, parseSubmission } from '../src/jobs/submission.js';
import type { Job } from '../machines/job-record.js';
import { type ApiClient, ClientError } from '../src/api/client.js';
import { launchBrowser } from './helpers/browser.js';
import { cli } from './helpers/cli.js';
import { collectFrames } from './helpers/event-frames.js';
import { type TestDaemon, startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { withDatabase } from './helpers/postgres.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

const FAST_LEASE = { leaseSec: 6, killGraceSec: 1 };

async function withHosts(names: { name: string; flags?: Record<string, unknown> }[], body: (hosts: TestDaemon[], dir: string, url: string) => Promise<void>): Promise<void> {
  await withDatabase(async (database) => {
    await withTempDir(async (dir) => {
      const hosts: TestDaemon[] = [];
      try {
        for (const { name, flags } of names) hosts.push(await startTestDaemon(join(dir.path, name), { store: database.url, hostName: name, maxConcurrent: 1, ...FAST_LEASE, ...flags }));
        await body(hosts, dir.path, database.url);
      } finally {
        for (const host of hosts) await host.close();
      }
    });
  });
}

/** The job in one of these statuses as `api`'s host sees it; a job submitted on another host may take a moment to appear. */
function seenAs(api: ApiClient, id: string, statuses: Job['status'][]): Promise<Job> {
  return until(async () => {
    const job = await api.get(id).catch((error: ClientError) => (error.status === 404 ? null : Promise.reject(error)));
    return job !== null && statuses.includes(job.status) ? job : null;
  }, `job ${id} to be ${statuses.join(' or ')}`, 30_000);
}

/** An event-stream frame in a line: a job event by its status, host, attempts and time; any other as it is. */
function briefFrame(frame: string): string {
  const [event, data] = frame.split('\n');
  if (event !== 'event: job' || data === undefined) return frame.replace('\n', ' ');
  const job = JSON.parse(data.slice('data: '.length)) as Job;
  return `${event} ${JSON.stringify({ status: job.status, host: job.host, attempts: job.attempts, terminationReason: job.terminationReason, error: job.error, updatedAt: job.updatedAt })}`;
}

/** The job's row as the database holds it now, but for the record: who holds it, its lease, its seq. */
async function rowOf(url: string, id: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT status, owner, lease_until, lease_until > now() AS unexpired, cancel_requested, seq, record->>\'host\' AS host FROM encsup_jobs WHERE id = $1', [id]);
    return rows[0] ?? null;
  } finally {
    await client.end();
  }
}

test('a job submitted on host a runs on host b; a\'s event stream shows b\'s live progress; cancel and retry from a', async () => {
  await withHosts([{ name: 'a' }, { name: 'b' }], async ([a, b], dir, url) => {
    // Drained from host b: a starts nothing, so every job runs on b.
    assert.is((await b!.api.drainHost('a')).draining, true);
    const events = collectFrames(a!.url, a!.token);
    try {
      const output = join(dir, 'long.mp4');
      const job = await a!.api.submit({ command: encodeCommand(output, { seconds: 20, realtime: true, size: '160x120' }), output, name: 'runs on b' });
      await waitForStatus(a!.api, job.id, ['encoding']);
      await until(() => events.frames.some((frame) => frame.startsWith('event: live') && frame.includes(job.id)), "b's live progress in a's event stream", 15_000);
      assert.ok(events.frames.some((frame) => frame.startsWith('event: job') && frame.includes(job.id) && frame.includes('"host":"b"')), `b's change of the job in a's stream: ${events.frames.filter((frame) => frame.includes(job.id)).map((frame) => frame.slice(0, 300)).join('\n')}`);
      assert.is((await a!.api.get(job.id)).host, 'b');

      const cancelled = await a!.api.cancel(job.id);
      assert.is(cancelled.status, 'cancelled');
      const onB = await b!.api.get(job.id);
      // Seen to fail once in about ten whole runs of the suite, never alone: what each side saw goes with it.
      if (onB.status !== 'cancelled') {
        const row = await rowOf(url, job.id);
        const seen = events.frames.filter((frame) => frame.includes(job.id)).map(briefFrame);
        assert.unreachable(`a answered cancelled (host ${cancelled.host}, updated ${cancelled.updatedAt}); b says ${onB.status} (updated ${onB.updatedAt}); the row: ${JSON.stringify(row)}; a's stream:\n${seen.join('\n')}`);
      }
      assert.is(b!.daemon.liveEncoders(), 0, "b's encoder is ended");

      const retried = await a!.api.retry(job.id);
      assert.is(retried.status, 'queued');
      const running = await waitForStatus(b!.api, job.id, ['encoding']);
      assert.is(running.host, 'b');
      await a!.api.cancel(job.id);
    } finally {
      events.stop();
    }
  });
});

test('priority from a host that does not run the jobs; drain and resume from anywhere; encsup hosts lists the farm', async () => {
  await withHosts([{ name: 'a' }, { name: 'b', flags: { labels: 'fast-disk' } }], async ([a, b], dir) => {
    await a!.api.drainHost('a');
    const blocker = await a!.api.submit({ command: ['sleep', '30'], name: 'blocker', validate: false });
    await waitForStatus(a!.api, blocker.id, ['encoding']);
    const first = await a!.api.submit({ command: ['true'], name: 'first', validate: false });
    const second = await a!.api.submit({ command: ['true'], name: 'second', validate: false });
    assert.is((await a!.api.setPriority(second.id, 'high')).priority, 10);
    await until(async () => (await b!.api.get(second.id)).priority === 10, 'b to see the new priority', 5000);

    const listed = await cli(['--url', a!.url, 'hosts'], { ENCSUP_TOKEN: a!.token });
    assert.is(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^a\s+up, drained/m);
    assert.match(listed.stdout, new RegExp(`^b\\s+up\\s.*fast-disk\\s+${blocker.id.slice(0, 8)}`, 'm'));

    await a!.api.cancel(blocker.id);
    const [firstDone, secondDone] = [await waitForStatus(a!.api, first.id, ['done']), await waitForStatus(a!.api, second.id, ['done'])];
    assert.ok(secondDone.startedAt! < firstDone.startedAt!, 'the job given a higher priority started first');

    // Resumed from host b, a takes work again.
    await b!.api.drainHost('b');
    await b!.api.resumeHost('a');
    const onA = await b!.api.submit({ command: ['true'], name: 'on a', validate: false });
    assert.is((await waitForStatus(b!.api, onA.id, ['done'])).host, 'a');
    // A job that ran before (on b) and waits again, no host holding it: cancelled from a at once.
    await b!.api.drainHost('a');
    const waitingAgain = await b!.api.retry(blocker.id);
    assert.equal([waitingAgain.status, waitingAgain.host], ['queued', 'b']);
    await seenAs(a!.api, blocker.id, ['queued']);
    assert.is((await a!.api.cancel(blocker.id)).status, 'cancelled');
    const unknown = await cli(['--url', a!.url, 'hosts', 'drain', 'nobody'], { ENCSUP_TOKEN: a!.token });
    assert.is(unknown.code, 3, 'not found');
    assert.match(unknown.stderr, 'no host named nobody');
  });
});

test('a job pinned to a host or a label runs only there; a job no host could run is refused at submit', async () => {
  await withHosts([{ name: 'a', flags: { resources: 'cpu=2' } }, { name: 'b', flags: { labels: 'nvenc-box', resources: 'cpu=8' } }], async ([a, b]) => {
    const pinned = await a!.api.submit({ command: ['true'], name: 'pinned to b', on: 'b', validate: false });
    const labelled = await a!.api.submit({ command: ['true'], name: 'for the label', on: 'nvenc-box', validate: false });
    const mine = await b!.api.submit({ command: ['true'], name: 'pinned to a', on: 'a', validate: false });
    assert.is((await waitForStatus(a!.api, pinned.id, ['done'])).host, 'b');
    assert.is((await waitForStatus(a!.api, labelled.id, ['done'])).host, 'b');
    assert.is((await seenAs(a!.api, mine.id, ['done'])).host, 'a');
    // Needs more cpu than a has, but b has it: accepted on a, run on b.
    const big = await a!.api.submit({ command: ['true'], name: 'big', needs: { cpu: 6 }, validate: false });
    assert.is((await waitForStatus(a!.api, big.id, ['done'])).host, 'b');
    const refused = (body: Record<string, unknown>) => a!.api.submit(body).then(() => 'accepted', (error: Error) => error.message);
    assert.match(await refused({ command: ['true'], needs: { cpu: 64 }, validate: false }), /needs: more than any host of the farm has: cpu=64/);
    assert.match(await refused({ command: ['true'], on: 'not a name!' }), /on: expected a host name or label/);
  });
});

test('path maps: a share mounted at different places on two hosts; the farm keeps its own paths, each host sees its own', async () => {
  await withDatabase(async (database) => {
    await withTempDir(async (dir) => {
      const share = join(dir.path, 'nas');
      mkdirSync(share);
      // The same folder, mounted at /…/mount-a on host a and /…/mount-b on host b.
      symlinkSync(share, join(dir.path, 'mount-a'));
      symlinkSync(share, join(dir.path, 'mount-b'));
      const flags = (name: string) => ({ store: database.url, hostName: name, maxConcurrent: 1, ...FAST_LEASE, pathMaps: `/mnt/nas=${join(dir.path, `mount-${name}`)}` });
      const a = await startTestDaemon(join(dir.path, 'a'), flags('a'));
      const b = await startTestDaemon(join(dir.path, 'b'), flags('b'));
      try {
        await a.api.drainHost('a');
        const output = join(dir.path, 'mount-a', 'mapped.mp4');
        const job = await a.api.submit({ command: encodeCommand(output, { seconds: 1, size: '64x48' }), output, cwd: join(dir.path, 'mount-a'), name: 'mapped' });
        const done = await seenAs(b.api, job.id, ['done']);
        assert.is(done.host, 'b');
        assert.is(done.output, join(dir.path, 'mount-b', 'mapped.mp4'), "b's API shows b's path");
        assert.is((await a.api.get(job.id)).output, output, "a's shows a's");
        assert.ok(existsSync(join(share, 'mapped.mp4')));
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        const { rows } = await client.query<{ record: { output: string; cwd: string; command: string[] } }>('SELECT record FROM encsup_jobs WHERE id = $1', [job.id]);
        await client.end();
        assert.equal([rows[0]!.record.output, rows[0]!.record.cwd], ['/mnt/nas/mapped.mp4', '/mnt/nas']);
        assert.ok(rows[0]!.record.command.includes('/mnt/nas/mapped.mp4'));
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
});

test("the dashboard shows the farm's hosts and the host each job runs on, and drains a host with a click", async () => {
  const browser = await launchBrowser();
  try {
    await withHosts([{ name: 'a' }, { name: 'b', flags: { labels: 'nvenc-box' } }], async ([a, b]) => {
      await a!.api.drainHost('a');
      const job = await a!.api.submit({ command: ['sleep', '30'], name: 'shown with its host', validate: false });
      await waitForStatus(a!.api, job.id, ['encoding']);
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${a!.url}/?token=${a!.token}`);
      await page.waitForSelector('#hosts-table tr[data-host="b"]');
      assert.match(await page.textContent('#hosts-table tr[data-host="a"]') ?? '', 'up, drained');
      assert.match(await page.textContent('#hosts-table tr[data-host="b"]') ?? '', 'nvenc-box');
      await page.waitForFunction((id) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(`tr[data-job="${id}"] .reason`)?.textContent.includes('on b'), job.id);
      await page.click('#hosts-table tr[data-host="b"] button');
      await until(async () => (await a!.api.hosts()).find((host) => host.name === 'b')?.draining === true, 'b to be drained from the dashboard', 5000);
      await a!.api.cancel(job.id);
    });
  } finally {
    await browser.close();
  }
});

test('path maps translate whole folders only, both ways, and are checked', () => {
  const parsed = parsePathMaps(['/mnt/nas=/Volumes/nas/']);
  assert.ok(parsed.ok);
  const maps = parsed.ok ? parsed.maps : [];
  assert.equal(maps, [{ farm: '/mnt/nas', local: '/Volumes/nas' }]);
  const pairs = [['/mnt/nas', '/Volumes/nas']] as const;
  assert.is(mapPath('/mnt/nas/a.mp4', pairs), '/Volumes/nas/a.mp4');
  assert.is(mapPath('/mnt/nas', pairs), '/Volumes/nas');
  assert.is(mapPath('/mnt/nas2/a.mp4', pairs), '/mnt/nas2/a.mp4', 'another folder that starts alike');
  assert.is(mapPath('/other/mnt/nas/a.mp4', pairs), '/other/mnt/nas/a.mp4', 'not at the start of the path');
  assert.is(mapPath('-i=/mnt/nas/a.mp4', pairs), '-i=/Volumes/nas/a.mp4');
  assert.is(mapPath('ffmpeg -i /mnt/nas/in.mkv "/mnt/nas/out file.mp4"', pairs), 'ffmpeg -i /Volumes/nas/in.mkv "/Volumes/nas/out file.mp4"');
  // One mapper for many paths (a start's): each path mapped as if alone, whatever came before it.
  const local = localPathMapper(maps);
  assert.equal(['/mnt/nas/a.mp4', '/mnt/nas/a.mp4', '/mnt/nas2/a.mp4', '-i=/mnt/nas/b.mp4', 'libx264'].map(local), ['/Volumes/nas/a.mp4', '/Volumes/nas/a.mp4', '/mnt/nas2/a.mp4', '-i=/Volumes/nas/b.mp4', 'libx264']);
  const submission = parseSubmission({ command: ['ffmpeg', '-i', '/Volumes/nas/in.mkv', '/Volumes/nas/out.mp4'], output: '/Volumes/nas/out.mp4', cwd: '/Volumes/nas', env: { OUT: '/Volumes/nas/x' } });
  assert.ok(submission.ok);
  const job = newJobRecord(submission.ok ? submission.submission : ({} as never), 'id1', new Date(0).toISOString(), '/');
  const farm = toFarmPaths(job, maps);
  assert.equal([farm.cwd, farm.output, farm.command, farm.env['OUT']], ['/mnt/nas', '/mnt/nas/out.mp4', ['ffmpeg', '-i', '/mnt/nas/in.mkv', '/mnt/nas/out.mp4'], '/mnt/nas/x']);
  assert.equal(toLocalPaths(farm, maps), job);
  for (const bad of ['/mnt/nas', 'mnt=/Volumes', '/a=/b=/c', '=/b']) assert.not.ok(parsePathMaps([bad]).ok, bad);
});

test.run();
