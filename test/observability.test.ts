// /metrics, the event stream, and the token that guards an API bound beyond loopback.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../src/cli/main.js';
import { sanitizeInspection } from '../src/inspect.js';
import { startTestDaemon, withTestDaemon, waitForStatus } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';
import { aJob } from './helpers/jobs.js';
import { until } from './helpers/wait.js';

/** Prometheus text format: `name{labels} value` lines, `# HELP` / `# TYPE` comments. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // Values as Go's ParseFloat reads them, as Prometheus does: NaN and Inf in any case.
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[\d.e+-]+|nan|[+-]inf)$/i.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

test('/metrics parses as Prometheus text and its counts match the API', async () => {
  await withTestDaemon({ maxConcurrent: 1, retryBackoffSec: 0.1 }, async ({ api, authed, dir }) => {
    const output = join(dir.path, 'm.mp4');
    const ok = await api.submit({ command: encodeCommand(output), output });
    const bad = await api.submit({ command: ['false'], maxAttempts: 2 });
    await waitForStatus(api, ok.id, ['done']);
    await waitForStatus(api, bad.id, ['failed']);
    const hold = await api.submit({ command: encodeCommand(join(dir.path, 'long.mp4'), { seconds: 30, realtime: true }) });
    await api.submit({ command: ['true'] });
    await waitForStatus(api, hold.id, ['encoding']);
    const response = await authed('/metrics');
    assert.match(response.headers.get('content-type')!, 'text/plain');
    const metrics = parsePrometheus(await response.text());
    const jobs = await api.list();
    for (const status of ['queued', 'encoding', 'finalizing', 'done', 'failed', 'cancelled']) {
      assert.is(metrics.get(`encsup_jobs{status="${status}"}`), jobs.filter((job) => job.status === status).length, status);
    }
    assert.is(metrics.get('encsup_queue_depth'), 1);
    assert.is(metrics.get('encsup_encoders_running'), 1);
    assert.is(metrics.get('encsup_retries_total'), 1, 'the failing job was retried once');
    assert.is(metrics.get('encsup_encode_duration_seconds_count{outcome="done"}'), 1);
    assert.is(metrics.get('encsup_encode_duration_seconds_count{outcome="failed"}'), 1, 'failed jobs are timed too');
    assert.ok(metrics.get('encsup_progress_updates_total')! >= 1);
    assert.is(metrics.get('encsup_jobs_submitted_total'), 4);
    assert.equal([metrics.get('encsup_jobs_finished_total{outcome="done"}'), metrics.get('encsup_jobs_finished_total{outcome="failed"}'), metrics.get('encsup_jobs_finished_total{outcome="cancelled"}')], [1, 1, 0]);
    assert.is(metrics.get('encsup_failures_total{kind="unknown"}'), 2, 'both attempts of `false` (no output to tell why)');
    assert.is(metrics.get('encsup_failures_total{kind="disk-full"}'), 0, 'every kind is exported, from 0');
    // Counted as each start is published (just after it is durable): three starts, and the retry's.
    await until(async () => parsePrometheus(await (await authed('/metrics')).text()).get('encsup_queue_wait_seconds_count') === 4, 'four starts counted');
    assert.ok(metrics.get('process_resident_memory_bytes')! > 0, 'the default process metrics');
    assert.ok(metrics.has('nodejs_eventloop_lag_seconds'));
    const head = await authed('/metrics', { method: 'HEAD' });
    assert.equal([head.status, await head.text()], [200, '']);
    await api.cancel(hold.id);
    const text = await (await authed('/metrics')).text();
    const after = parsePrometheus(text);
    assert.is(after.get('encsup_jobs_finished_total{outcome="cancelled"}'), 1);
    // Prometheus's own checker, names and types included (a gauge named _total fails it).
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.is(checked.error, undefined, 'promtool runs (the prometheus package: .ci/run installs it)');
    assert.is(checked.status, 0, `${checked.stdout}${checked.stderr}`);
  });
});

test('the event stream sends each durable job change', async () => {
  const dir = tempDir();
  const { api, authed, close } = await startTestDaemon(dir.path);
  const controller = new AbortController();
  try {
    const response = await authed('/api/events', { signal: controller.signal });
    assert.is(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    const job = await api.submit({ command: ['true'] });
    let text = '';
    while (!text.includes('"status":"done"')) text += new TextDecoder().decode((await reader.read()).value);
    const statuses = [...text.matchAll(/event: job\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as { id: string; status: string }).filter((j) => j.id === job.id).map((j) => j.status);
    assert.equal([statuses[0], statuses.at(-1)], ['queued', 'done']);
    assert.ok(statuses.includes('encoding'));
  } finally {
    controller.abort();
    await close();
    dir.remove();
  }
});

test('live progress reaches the event stream a few times a second, though only the throttled updates are stored', async () => {
  await withTestDaemon({ progressThreshold: 50 }, async ({ api, authed }) => {
    const controller = new AbortController();
    const response = await authed('/api/events', { signal: controller.signal });
    const reader = response.body!.getReader();
    const job = await api.submit({ command: 'for i in $(seq 1 100); do echo "Step $i/100"; sleep 0.02; done', shell: true });
    let text = '';
    while (!text.includes('"kind":"done"')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const live = [...text.matchAll(/event: live\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as { jobId: string; progress: { progress: number } }).filter((each) => each.jobId === job.id);
    const stored = [...text.matchAll(/event: lifecycle\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as { kind: string }).filter((each) => each.kind === 'progress');
    assert.ok(live.length >= 5, `${live.length} live updates`);
    assert.ok(stored.length <= 3, `${stored.length} stored updates at a 50 % threshold`);
    assert.ok(new Set(live.map((each) => each.progress.progress)).size >= 5, 'the live percent moves between stored updates');
    assert.is((await api.get(job.id)).status, 'done');
  });
});

test('bound beyond loopback, the API needs the token: 401 without, 200 with; --no-auth refuses to start there', async () => {
  const dir = tempDir();
  try {
    await startTestDaemon(dir.path, { host: '0.0.0.0', auth: 'off' }).then(
      () => assert.unreachable('started without a token'),
      (error: Error) => assert.match(error.message, 'serving without a token is allowed on loopback only'),
    );
    const { daemon, close } = await startTestDaemon(dir.path, { host: '0.0.0.0', token: 's3cret-token-0123456789' });
    try {
      const local = `http://127.0.0.1:${daemon.port}`;
      assert.is((await fetch(`${local}/api/jobs`)).status, 401);
      assert.is((await fetch(`${local}/api/jobs`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.is((await fetch(`${local}/`)).status, 401, 'the dashboard too');
      assert.is((await fetch(`${local}/api/jobs`, { headers: { authorization: 'Bearer s3cret-token-0123456789' } })).status, 200);
      const login = await fetch(`${local}/?token=s3cret-token-0123456789`, { redirect: 'manual' });
      assert.is(login.status, 303, 'the token in the address logs a browser in');
      assert.is(login.headers.get('location'), '/');
      assert.match(login.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict/);
      assert.is((await fetch(`${local}/healthz`)).status, 200, 'health stays open for monitors');
      let out = '';
      const io = { stdout: (t: string) => (out += t), stderr: () => undefined, cwd: process.cwd(), stdin: () => (async function* () {})(), stopSignal: () => new Promise<string>(() => undefined) };
      assert.is(await runCli(['--url', local, 'list'], { ...io, env: {} }), 1, 'the CLI without the token is refused');
      assert.is(await runCli(['--url', local, 'list'], { ...io, env: { ENCSUP_TOKEN: 's3cret-token-0123456789' } }), 0, 'and with ENCSUP_TOKEN it gets in');
      assert.match(out, 'no jobs');
    } finally {
      await close();
    }
  } finally {
    dir.remove();
  }
});

test('what the inspector is sent holds no environment variables or command arguments', () => {
  const context = { job: aJob('i1', { env: { API_KEY: 'secret' }, command: ['ffmpeg', '-i', 'https://user:pass@host/x'] }), elapsedBefore: 0 };
  const clean = sanitizeInspection(context) as { job: Record<string, unknown> };
  const text = JSON.stringify(clean);
  assert.not.match(text, 'secret');
  assert.not.match(text, 'user:pass');
  assert.equal(clean.job['command'], ['ffmpeg']);
  assert.is(clean.job['id'], 'i1');
});

test("scripts/grafana-dashboard.json is a dashboard whose every query names metrics the daemon exports", async () => {
  const dashboard = JSON.parse(readFileSync('scripts/grafana-dashboard.json', 'utf8')) as { title: string; panels: { title: string; targets: { expr: string }[] }[] };
  assert.is(dashboard.title, 'encsup');
  await withTestDaemon({}, async ({ api, authed }) => {
    const job = await api.submit({ command: ['sh', '-c', 'exit 1'], maxAttempts: 1 });
    await waitForStatus(api, job.id, ['failed']);
    const exported = await (await authed('/metrics')).text();
    const names = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => [...target.expr.matchAll(/\b(?:encsup|process|nodejs)_[a-z0-9_]+/g)].map((match) => match[0])));
    assert.ok(names.length >= 15);
    for (const name of new Set(names)) assert.match(exported, new RegExp(`^${name}[{ ]`, 'm'), `${name} is exported`);
  });
});

test.run();
