// The API client's event stream (`api.events`, what `encsup watch`, `submit --wait` and an
// application follow), against a real daemon on a loopback port with a real encode.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiClient } from '../src/api/client.js';
import type { StreamEvent } from '../src/api/event-client.js';
import type { Job } from '../machines/job-record.js';
import { encodeCommand } from './helpers/media.js';
import { startTestDaemon, withTestDaemon } from './helpers/daemon.js';
import { collectFrames } from './helpers/event-frames.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

test('a followed encode arrives as whole jobs, its progress applied to the last record, up to its end', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const seen: Job[] = [];
    const kinds: string[] = [];
    let id = '';
    await api.events(
      null,
      (event: StreamEvent) => {
        if (event.type === 'lifecycle' && event.event.jobId === id) kinds.push(event.event.kind);
        if (event.type === 'job' && event.job.id === id) seen.push(event.job);
        return event.type === 'lifecycle' && event.event.jobId === id && event.event.kind === 'done';
      },
      AbortSignal.timeout(30_000),
      async (remember) => {
        const job = await api.submit({ command: encodeCommand(join(dir.path, 'followed.mp4'), { seconds: 2, realtime: true }) });
        id = job.id;
        remember(job);
      },
    );
    // `submitted` may come before the submission's answer names the job.
    assert.equal(kinds.filter((kind) => ['started', 'encoder-started', 'done'].includes(kind)), ['started', 'encoder-started', 'done']);
    // A generated input has no length: its progress is frames.
    const moving = seen.filter((job) => job.status === 'encoding' && job.frame !== null && job.frame > 0);
    assert.ok(moving.length >= 2, `progress while it encoded (${moving.length} updates)`);
    // Each is a whole record: the command and name from the submission, the frames from the delta.
    assert.ok(moving.every((job) => job.command.length > 3 && job.name === seen[0]!.name));
    assert.ok(moving.at(-1)!.frame! > moving[0]!.frame!);
  });
});

test('an abort ends the stream with an AbortError, as fetch does; a wrong token and a daemon that is gone are errors', async () => {
  const dir = tempDir();
  const daemon = await startTestDaemon(dir.path);
  try {
    const stop = new AbortController();
    const heard = api(daemon.url, daemon.token).events(null, () => undefined, stop.signal, async () => void setTimeout(() => stop.abort(), 100));
    const aborted = await heard.then(() => null, (error: Error) => error);
    assert.is(aborted?.name, 'AbortError');
    const refused = await api(daemon.url, 'not-the-token').events(null, () => undefined, AbortSignal.timeout(5000)).then(() => null, (error: Error) => error);
    assert.match(refused?.message ?? '', 'the event stream answered 401');
    // The daemon stops while the stream is open: the follower is told, not left waiting.
    const followed = api(daemon.url, daemon.token).events(null, () => undefined, AbortSignal.timeout(20_000), async () => void daemon.close());
    const ended = await followed.then(() => 'ended', (error: Error) => error.name);
    assert.ok(ended !== 'TimeoutError', 'the stream ended when the daemon stopped, not at the timeout');
  } finally {
    await daemon.close().catch(() => undefined);
    dir.remove();
  }
});

test('a stream that asks for some events (?events=, ?kinds=, ?status=) gets those alone; an unknown name is refused, named', async () => {
  await withTestDaemon({}, async ({ api, url, token, dir }) => {
    const everything = collectFrames(url, token);
    const finishedJobs = collectFrames(url, token, '?events=job&status=done,failed');
    const ends: StreamEvent[] = [];
    let id = '';
    try {
      await api.events(
        null,
        (event) => {
          ends.push(event);
          return event.type === 'lifecycle' && event.event.jobId === id;
        },
        AbortSignal.timeout(30_000),
        async () => {
          // Progress while it runs (live and stored), so there is something to leave out.
          id = (await api.submit({ command: encodeCommand(join(dir.path, 'chosen.mp4'), { seconds: 2, realtime: true }) })).id;
        },
        { events: ['lifecycle'], kinds: ['done', 'failed', 'cancelled'] },
      );
      assert.equal(ends.map((event) => (event.type === 'lifecycle' ? `${event.event.kind} ${event.event.jobId}` : event.type)), [`done ${id}`]);
      await until(() => finishedJobs.frames.length > 0, 'the finished job in the stream of finished jobs');
      const ofJob = everything.frames.filter((frame) => frame.includes(id));
      for (const kind of ['event: live', 'event: lifecycle\ndata: {"kind":"started"', 'event: job']) assert.ok(ofJob.some((frame) => frame.startsWith(kind)), `the whole stream had ${kind}`);
      assert.is(finishedJobs.frames.length, 1, finishedJobs.frames.join('\n'));
      assert.ok(finishedJobs.frames[0]!.startsWith('event: job\n') && finishedJobs.frames[0]!.includes(`"id":"${id}"`) && finishedJobs.frames[0]!.includes('"status":"done"'), finishedJobs.frames[0]);
    } finally {
      everything.stop();
      finishedJobs.stop();
    }

    for (const [query, named] of [
      ['?events=lifecycle,bogus', 'events: "bogus" is not an event type: expected some of lifecycle, job, live, output'],
      ['?kinds=done,finished', 'kinds: "finished" is not a lifecycle kind'],
      ['?status=', 'status: "" is not a job status'],
    ] as const) {
      const answer = await fetch(new URL(`/api/events${query}`, url), { headers: { authorization: `Bearer ${token}` } });
      assert.is(answer.status, 400, query);
      const body = (await answer.json()) as { error: string; field?: string };
      assert.ok(body.error.startsWith(named), `${query}: ${body.error}`);
    }
  });
});

function api(url: string, token: string | null): ApiClient {
  return new ApiClient(url, token);
}

test.run();
