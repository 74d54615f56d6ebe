// The operator's everyday controls: pause and resume the line, id prefixes, the log's tail, a
// download and `encsup logs -f`, and the CLI's small kindnesses (--version, a hint for a missing
// `--`, a --url without a scheme).
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli, cliUntilStopped } from './helpers/cli.js';
import { waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { until } from './helpers/wait.js';

test('paused, the line keeps its jobs and starts none while the running one goes on; resumed, they run', async () => {
  await withTestDaemon({ maxConcurrent: 1 }, async ({ api, dir, url }) => {
    const running = await api.submit({ command: ['sh', '-c', 'sleep 1'] });
    await waitForStatus(api, running.id, ['encoding']);
    const paused = await cli(['pause', '--data-dir', dir.path, '--url', url.replace(/^http:\/\//, '')]);
    assert.is(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, 'queue paused');
    const waiting = await api.submit({ command: ['true'] });
    assert.is((await waitForStatus(api, running.id, ['done'])).status, 'done', 'the running job went on');
    // Paused: the waiting job stays waiting however long (checked after the running one ended).
    assert.is((await api.get(waiting.id)).status, 'queued');
    assert.equal(await api.settings(), { maxConcurrent: 1, progressThreshold: 1, paused: true, resources: {} });
    const resumed = await cli(['resume', '--json', '--data-dir', dir.path, '--url', url]);
    assert.is(JSON.parse(resumed.stdout).paused, false);
    assert.is((await waitForStatus(api, waiting.id, ['done'])).status, 'done');
  });
});

test('an id prefix works wherever an id does; an ambiguous one is refused, naming the matches', async () => {
  let n = 0;
  const ids = ['abcd1111aaaa', 'abcd2222bbbb', 'ffff0000cccc'];
  await withTestDaemon(
    {},
    async ({ api, dir, url }) => {
      const jobs = [];
      for (let i = 0; i < 3; i++) jobs.push(await api.submit({ command: ['sleep', '30'], name: `job ${i}` }));
      assert.equal(jobs.map((job) => job.id), ids);
      assert.is((await api.get('ffff')).id, 'ffff0000cccc');
      const ambiguous = await cli(['show', 'abcd', '--data-dir', dir.path, '--url', url]);
      assert.is(ambiguous.code, 1);
      assert.match(ambiguous.stderr, 'abcd is the start of 2 job ids (abcd1111aaaa, abcd2222bbbb): give more of it');
      const cancelled = await cli(['cancel', 'abcd2', '--data-dir', dir.path, '--url', url]);
      assert.equal([cancelled.code, cancelled.stdout.trim()], [0, 'abcd2222bbbb cancelled']);
      assert.is((await cli(['show', 'abc', '--data-dir', dir.path, '--url', url])).code, 3, 'three characters are no prefix');
      for (const id of ['abcd1', 'ffff0']) await api.cancel(id);
    },
    { newId: () => ids[n++]! },
  );
});

test("a log's last lines, what follows an offset, a download, and encsup logs -f until the job ends", async () => {
  await withTestDaemon({}, async ({ api, authed, dir, url }) => {
    const job = await api.submit({ command: ['sh', '-c', 'for i in $(seq 1 40); do echo "line $i"; sleep 0.05; done'] });
    const follow = await cliUntilStopped(['logs', '-f', job.id.slice(0, 6), '--data-dir', dir.path, '--url', url]);
    assert.is(await follow.exited, 0, follow.out.stderr);
    const followed = follow.out.stdout.split('\n').filter((line) => line.startsWith('line '));
    assert.equal(followed, Array.from({ length: 40 }, (_, i) => `line ${i + 1}`), 'every line once, in order, then it ended with the job');
    await waitForStatus(api, job.id, ['done']);
    const tail = await authed(`/api/jobs/${job.id}/log?tail=3`);
    assert.is(await tail.text(), 'line 38\nline 39\nline 40\n');
    const size = Number(tail.headers.get('x-log-size'));
    const whole = await (await authed(`/api/jobs/${job.id}/log`)).text();
    assert.is(Buffer.byteLength(whole), size);
    const rest = await (await authed(`/api/jobs/${job.id}/log?offset=${size - 8}`)).text();
    assert.is(rest, 'line 40\n');
    const download = await authed(`/api/jobs/${job.id}/log?download=1`);
    assert.is(download.headers.get('content-disposition'), `attachment; filename="${job.id}.log"`);
    for (const bad of ['tail=0', 'tail=x', 'tail=1e9', 'offset=-1']) assert.is((await authed(`/api/jobs/${job.id}/log?${bad}`)).status, 400, bad);
  });
});

test('encsup --version; a missing -- gets a hint, not a page of help', async () => {
  const version = await cli(['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const slip = await cli(['submit', 'ffmpeg', '-i', 'in.mp4', 'out.mp4']);
  assert.is(slip.code, 2);
  assert.match(slip.stderr, "unknown option '-i'");
  assert.match(slip.stderr, 'hint: put -- before the command');
  assert.match(slip.stderr, 'encsup submit [options] -- ffmpeg -i in.mp4 out.mp4');
  assert.ok(slip.stderr.split('\n').length < 8, `short: ${slip.stderr}`);
});

test.run();
