// Progress through the daemon: throttled store writes, a job's own parser and pattern.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { postRaw, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { FFMPEG, makeClip } from './helpers/media.js';

// `count` lines in `bursts` bursts, 0.1 s apart: what one burst prints arrives as one read.
const manyLines = (count: number, bursts: number) => [
  'sh',
  '-c',
  `i=0; while [ $i -lt ${count} ]; do i=$((i+1)); echo "Step $i/${count}"; [ $((i % ${count / bursts})) -eq 0 ] && sleep 0.1; done; true`,
];

test('an encode printing thousands of progress lines makes at most about 100/threshold + heartbeat writes', async () => {
  await withTestDaemon({}, async ({ api }) => {
    const bursts = 50;
    for (const threshold of [1, 10]) {
      await api.updateSettings({ progressThreshold: threshold });
      const job = await waitForStatus(api, (await api.submit({ command: manyLines(5000, bursts) })).id, ['done', 'failed']);
      assert.is(job.status, 'done');
      const heartbeats = Math.ceil(job.elapsedSeconds / 5);
      const most = 100 / threshold + heartbeats + 2;
      assert.ok(job.progressUpdates <= most, `threshold ${threshold}: ${job.progressUpdates} writes, at most ${most}`);
      // Each burst moves the percent by 2: at threshold 1 each is worth a write, at 10 every fifth.
      const moves = Math.min(bursts, 100 / threshold);
      assert.ok(job.progressUpdates >= moves / 2, `threshold ${threshold}: progress was written as it moved (${job.progressUpdates})`);
      assert.is(job.progress, 100);
    }
  });
});

test("a job's own pattern is used for its progress, and a bad pattern is refused naming the field", async () => {
  await withTestDaemon({}, async (daemon) => {
    const { api } = daemon;
    const submitted = await api.submit({
      command: ['sh', '-c', 'for i in 1 2 3 4; do echo "chunk $i of 4 written"; sleep 0.3; done; exit 1'],
      pattern: 'chunk (?<current>\\d+) of (?<total>\\d+)',
      maxAttempts: 1,
    });
    assert.is(submitted.parser, 'pattern');
    const failed = await waitForStatus(api, submitted.id, ['failed']);
    assert.is(failed.progress, 100, 'read through the pattern (and not reset by the failure)');
    for (const [body, field] of [
      [{ command: ['x'], pattern: '(unclosed' }, 'pattern'],
      [{ command: ['x'], pattern: 'no groups here' }, 'pattern'],
      [{ command: ['x'], parser: 'pattern' }, 'pattern'],
      [{ command: ['x'], parser: 'mencoder' }, 'parser'],
    ] as const) {
      const answer = await postRaw(daemon, '/api/jobs', JSON.stringify(body));
      assert.is(answer.status, 400, JSON.stringify(body));
      assert.is(answer.json.field, field);
    }
    const named = await api.submit({ command: manyLines(10, 1), parser: 'steps' });
    assert.is((await waitForStatus(api, named.id, ['done'])).parser, 'steps');
  });
});

test('an encode that hides its Duration header gets its total from a probe of the input, made while it runs', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 3, 24);
    // -loglevel error hides the header lines that give the input's length: only stats are printed.
    const command = [FFMPEG, '-hide_banner', '-loglevel', 'error', '-stats', '-y', '-i', clip, '-c:v', 'libx264', '-preset', 'ultrafast', join(dir.path, 'out.mp4')];
    const job = await waitForStatus(api, (await api.submit({ command })).id, ['done', 'failed']);
    assert.is(job.status, 'done', job.error ?? '');
    assert.is(job.totalFrames, 72, '3 s at 24 fps, read by the probe');
    assert.is(job.progress, 100);
  });
});

test.run();
