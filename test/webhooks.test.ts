// Webhooks to a real local HTTP receiver: signed (and verified here as a receiver would), retried
// from a durable outbox until the receiver takes them, once each, across a daemon restart.
import { readFileSync } from 'node:fs';
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silentLogger } from '../src/logger.js';
import { postJson } from '../src/webhooks/post-json.js';
import { verifySignature } from '../src/webhooks/signature.js';
import { WebhookOutbox } from '../src/webhooks/webhook-outbox.js';
import { aJob } from './helpers/jobs.js';
import { postRaw, startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  answered: number;
}

/** A receiver that fails its first `failures` requests with 500, then answers 204. */
async function receiver(failures: number, port = 0) {
  const received: Received[] = [];
  let failing = failures;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const answered = failing-- > 0 ? 500 : 204;
      received.push({ headers: request.headers, body, answered });
      response.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/encsup-hook`;
  return { url, port: (server.address() as AddressInfo).port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test("a job's webhook: done is POSTed signed; a receiver that fails five times gets it once, with the same delivery id", async () => {
  const dir = tempDir();
  const hook = await receiver(5);
  const daemon = await startTestDaemon(dir.path, { webhookRetrySec: 0.05 });
  try {
    const job = await daemon.api.submit({ command: ['sh', '-c', 'echo made'], webhook: hook.url, name: 'hooked' });
    await waitForStatus(daemon.api, job.id, ['done']);
    await until(() => hook.received.some((each) => each.answered === 204), 'the delivery to get through');
    assert.is(hook.received.length, 6, 'five refusals, then taken');
    const ids = new Set(hook.received.map((each) => each.headers['encsup-delivery']));
    assert.is(ids.size, 1, 'one delivery, tried six times');
    const secret = readFileSync(join(dir.path, 'webhook-secret'), 'utf8').trim();
    const taken = hook.received.at(-1)!;
    assert.ok(verifySignature(secret, taken.headers['encsup-signature'] as string, taken.body, Math.floor(Date.now() / 1000)), 'signed with the secret');
    assert.not.ok(verifySignature(secret, taken.headers['encsup-signature'] as string, taken.body.replace('hooked', 'forged'), Math.floor(Date.now() / 1000)), 'a changed body does not verify');
    const payload = JSON.parse(taken.body) as { event: { kind: string; jobId: string }; job: { id: string; status: string } };
    assert.equal([payload.event.kind, payload.event.jobId, payload.job.status, taken.headers['encsup-event']], ['done', job.id, 'done', 'done']);
    const deliveries = (await (await daemon.authed(`/api/jobs/${job.id}/deliveries`)).json()) as { kind: string; status: string; attempts: number; body: string | null }[];
    assert.equal(deliveries.map((each) => [each.kind, each.status, each.attempts, each.body]), [['done', 'delivered', 6, null]], 'a delivered body is not kept');
    const bad = await postRaw(daemon, '/api/jobs', JSON.stringify({ command: ['true'], webhook: 'file:///etc/passwd' }));
    assert.equal([bad.status, bad.json.field], [400, 'webhook']);
  } finally {
    await daemon.close();
    await hook.close();
    dir.remove();
  }
});

test("a job removed for good takes its made deliveries out of the outbox and its file; one still to be made stays and is tried", async () => {
  const dir = tempDir();
  const taking = await receiver(0);
  const refusing = await receiver(1_000_000);
  const daemon = await startTestDaemon(dir.path, { webhookRetrySec: 0.05 });
  try {
    const made = await daemon.api.submit({ command: ['true'], webhook: taking.url });
    const owed = await daemon.api.submit({ command: ['true'], webhook: refusing.url });
    await waitForStatus(daemon.api, made.id, ['done']);
    await waitForStatus(daemon.api, owed.id, ['done']);
    await until(() => taking.received.length === 1 && refusing.received.length >= 1, 'one delivery made, one refused');
    const file = join(dir.path, 'webhooks.db');
    await until(() => readFileSync(file, 'utf8').includes('"status":"delivered"'), 'the delivery to be recorded');
    assert.is((await daemon.api.clean({ olderThan: 0 })).removed, 2);
    await until(() => !readFileSync(file, 'utf8').includes(made.id), "the made delivery to leave the file (compacted)");
    assert.match(readFileSync(file, 'utf8'), owed.id, 'the one still to be made stays');
    const tries = refusing.received.length;
    await until(() => refusing.received.length > tries, 'the owed delivery to be tried again');
    assert.is(taking.received.length, 1);
  } finally {
    await daemon.close();
    await taking.close();
    await refusing.close();
    dir.remove();
  }
});

test('deliveries not made before a restart are made after it; the daemon default webhook takes the events it names', async () => {
  const dir = tempDir();
  const hook = await receiver(1000);
  const settings = { webhookUrl: hook.url, webhookEvents: 'started done', webhookSecret: 'a-secret-the-app-shares', webhookRetrySec: 0.05 };
  let daemon = await startTestDaemon(dir.path, settings);
  try {
    const job = await daemon.api.submit({ command: ['sh', '-c', 'echo made'] });
    await waitForStatus(daemon.api, job.id, ['done']);
    await until(() => new Set(hook.received.map((each) => each.headers['encsup-event'])).size === 2, 'both events tried');
    await daemon.close();
    await hook.close();
    // The receiver is back at the same address, and takes everything now; so is the daemon.
    const back = await receiver(0, hook.port);
    daemon = await startTestDaemon(dir.path, settings);
    try {
      await until(() => back.received.length >= 2, 'the deliveries to resume after the restart');
      assert.equal(back.received.map((each) => each.headers['encsup-event']).sort(), ['done', 'started']);
      assert.ok(back.received.every((each) => verifySignature('a-secret-the-app-shares', each.headers['encsup-signature'] as string, each.body, Math.floor(Date.now() / 1000))));
    } finally {
      await back.close();
    }
  } finally {
    await daemon.close();
    dir.remove();
  }
});

/** An outbox in `dir` that sends each job's done event to `url`, retrying after 50 ms. */
function doneOutbox(dir: string, url: string, extra: { tickMs?: number } = {}): WebhookOutbox {
  return new WebhookOutbox(join(dir, 'webhooks.db'), {
    nowMs: Date.now,
    secret: 'a-secret-the-app-shares',
    log: silentLogger,
    post: postJson,
    retryMs: 50,
    subscriptionOf: () => ({ url, events: ['done'] }),
    ...extra,
  });
}

test('deliveries go as soon as they are stored, many at a time, not one tick at a time: 1,000 made at once all arrive with the tick an hour away', async () => {
  const dir = tempDir();
  const hook = await receiver(0);
  const outbox = doneOutbox(dir.path, hook.url, { tickMs: 3_600_000 });
  try {
    await outbox.start();
    const ids = Array.from({ length: 1000 }, (_, at) => `burst-${at}`);
    for (const jobId of ids) outbox.enqueue({ kind: 'done', jobId, at: new Date().toISOString(), elapsedSeconds: 1 }, aJob(jobId));
    await until(() => hook.received.length === ids.length, 'every delivery, without waiting for a tick');
    const delivered = hook.received.map((each) => (JSON.parse(each.body) as { event: { jobId: string } }).event.jobId);
    assert.equal([...delivered].sort(), [...ids].sort(), 'each once');
    await until(async () => (await Promise.all(ids.map((id) => outbox.deliveriesOf(id)))).every((each) => each.length === 1 && each[0]!.status === 'delivered'), 'each stored, and marked delivered');
  } finally {
    await outbox.close();
    await hook.close();
    dir.remove();
  }
});

test('the outbox ticks only while a delivery is pending, and wakes again for the next one', async () => {
  const dir = tempDir();
  const hook = await receiver(1);
  const outbox = doneOutbox(dir.path, hook.url);
  try {
    await outbox.start();
    assert.not.ok(outbox.ticking, 'nothing to send: not woken');
    const done = (jobId: string) => outbox.enqueue({ kind: 'done', jobId, at: new Date().toISOString(), elapsedSeconds: 1 }, aJob(jobId));
    done('first');
    await until(() => hook.received.some((each) => each.answered === 204), 'the first delivery, after one refusal');
    await until(() => !outbox.ticking, 'the outbox to go idle once it was delivered');
    done('second');
    await until(() => hook.received.filter((each) => each.answered === 204).length === 2, 'the next delivery, from an idle outbox');
    const bodies = hook.received.filter((each) => each.answered === 204).map((each) => (JSON.parse(each.body) as { event: { jobId: string } }).event.jobId);
    assert.equal(bodies, ['first', 'second']);
    await until(() => !outbox.ticking, 'idle again');
  } finally {
    await outbox.close();
    await hook.close();
    dir.remove();
  }
});

test.run();
