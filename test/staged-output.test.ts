// Outputs appear whole or not at all: a command that writes to {output} writes a hidden file beside
// the output, renamed into place only after finalizing has checked it, and removed (or kept aside)
// when the attempt fails. Real ffmpeg encodes through a real daemon.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { postRaw, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { FFMPEG, makeClip, probe } from './helpers/media.js';
import { sampleEvery } from './helpers/wait.js';

const encode = (clip: string, output: string, ...extra: string[]) => [FFMPEG, '-hide_banner', '-y', '-re', '-i', clip, ...extra, '-c:v', 'libx264', '-preset', 'ultrafast', output];

test('an encode to {output}: nothing at the output path until it is checked, then the whole file; no temporary left', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 3, 24);
    const output = join(dir.path, "final cut's.mp4");
    const seen: { atOutput: boolean; hidden: string[] }[] = [];
    const sampler = sampleEvery(50, async () => void seen.push({ atOutput: existsSync(output), hidden: readdirSync(dir.path).filter((name) => name.startsWith('.')) }));
    // One as argv, one as a shell line (the staging name is quoted for the shell).
    const job = await api.submit({ command: encode(clip, '{output}'), output });
    const ended = await waitForStatus(api, job.id, ['done', 'failed'], 60_000);
    await sampler.stop();
    assert.is(ended.status, 'done', ended.error ?? '');
    const running = seen.filter((sample) => sample.hidden.length > 0);
    assert.ok(running.length >= 5, 'the encode wrote to a hidden name beside the output');
    assert.match(running[0]!.hidden[0]!, new RegExp(`^\\.final cut's\\.encsup-${job.id}-1\\.mp4$`));
    assert.ok(running.every((sample) => !sample.atOutput), 'the output path was empty while it was written');
    assert.ok(Math.abs(Number(probe(output).format.duration) - 3) < 0.3);
    assert.equal(readdirSync(dir.path).filter((name) => name.startsWith('.')), []);

    const shellOutput = join(dir.path, 'shell out.mp4');
    const shellJob = await api.submit({ command: encode(clip, '{output}').join(' '), shell: true, output: shellOutput });
    assert.is((await waitForStatus(api, shellJob.id, ['done', 'failed'], 60_000)).status, 'done');
    assert.ok(existsSync(shellOutput));
  });
});

test('a failed attempt leaves nothing at the output path: its temporary is removed, or kept aside when asked; an in-place output is reported', async () => {
  for (const keep of [false, true]) {
    await withTestDaemon({ keepFailedOutputs: keep ? 'true' : 'false' }, async ({ api, dir }) => {
      const clip = makeClip(join(dir.path, 'in.mp4'), 8, 24);
      const output = join(dir.path, 'out.mp4');
      const job = await api.submit({ command: encode(clip, '{output}'), output, timeoutSec: 2, maxAttempts: 1 });
      const ended = await waitForStatus(api, job.id, ['failed'], 30_000);
      assert.match(ended.error ?? '', /timed out/);
      assert.not.ok(existsSync(output), 'no half-written file where the output should be');
      const left = readdirSync(dir.path).filter((name) => name.startsWith('.'));
      assert.equal(left, keep ? [`.out.encsup-${job.id}-1.failed.mp4`] : []);
    });
  }
  await withTestDaemon({}, async ({ api, dir }) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 8, 24);
    const output = join(dir.path, 'in-place.mp4');
    const job = await api.submit({ command: encode(clip, output), output, timeoutSec: 2, maxAttempts: 1 });
    const ended = await waitForStatus(api, job.id, ['failed'], 30_000);
    assert.match(ended.error ?? '', new RegExp(`it left a partial output at ${output} \\(\\d+ bytes\\)`));
  });
});

test('a command that writes to {output} without an output path is refused, saying why', async () => {
  await withTestDaemon({}, async (daemon) => {
    const refused = await postRaw(daemon, '/api/jobs', JSON.stringify({ command: ['ffmpeg', '-i', 'a.mp4', '{output}'] }));
    assert.is(refused.status, 400);
    assert.equal([refused.json.field, refused.json.error], ['output', 'output: the command writes to {output}, so the job needs the path its output should end up at']);
  });
});

test.run();
