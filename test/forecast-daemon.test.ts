// Forecasts through a real daemon: finished encodes teach how long their kind takes (kept in the
// store, so a restart keeps it), waiting jobs show when they will start and end (API and
// `encsup list`), a running job has an ETA from its first report, the ETA counts down between an
// encoder's reports, and a job may declare passes its command doesn't show.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import type { JobView } from '../src/forecast/job-view.js';
import { cli } from './helpers/cli.js';
import { startTestDaemon, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { FFMPEG, makeClip } from './helpers/media.js';
import { withTempDir } from './helpers/temp.js';
import { sampleEvery, until } from './helpers/wait.js';

const encode = (clip: string, output: string, ...extra: string[]) => [FFMPEG, '-hide_banner', '-y', '-re', '-i', clip, ...extra, '-c:v', 'libx264', '-preset', 'ultrafast', output];

test('finished encodes teach their kind: after a restart, waiting jobs show when they start and end, and the running one has an ETA from its first report', async () => {
  await withTempDir(async (dir) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 3, 24);
    const first = await startTestDaemon(dir.path, { maxConcurrent: 1 });
    try {
      const taught = await Promise.all([1, 2].map((n) => first.api.submit({ command: encode(clip, join(dir.path, `taught${n}.mp4`)) })));
      for (const job of taught) assert.is((await waitForStatus(first.api, job.id, ['done', 'failed'], 60_000)).status, 'done');
    } finally {
      await first.close();
    }
    const daemon = await startTestDaemon(dir.path, { maxConcurrent: 1 });
    try {
      const { api } = daemon;
      const jobs = await Promise.all([1, 2, 3].map((n) => api.submit({ command: encode(clip, join(dir.path, `out${n}.mp4`)) })));
      const samples: Job[] = [];
      const sampler = sampleEvery(100, async () => void samples.push(await api.get(jobs[0]!.id)));
      await until(async () => (await api.get(jobs[0]!.id)).status === 'encoding', 'the first job to start');
      // The waiting jobs' forecasts, once their inputs are probed.
      const waiting = await until(async () => {
        const listed = (await api.list()) as JobView[];
        const [, second, third] = jobs.map((job) => listed.find((each) => each.id === job.id)!);
        return second!.forecast?.expectedRunSeconds && third!.forecast?.startsAt ? { second: second!, third: third! } : null;
      }, 'forecasts for the waiting jobs');
      const forecast = waiting.third.forecast!;
      assert.ok(forecast.expectedRunSeconds! > 1.5 && forecast.expectedRunSeconds! < 8, `a 3 s real-time encode is expected to take ${forecast.expectedRunSeconds} s`);
      assert.ok(Date.parse(forecast.startsAt!) > Date.parse(waiting.second.forecast!.startsAt!), 'the third starts after the second');
      const listed = await cli(['list', '--data-dir', dir.path, '--url', daemon.url]);
      assert.match(listed.stdout, /FORECAST/);
      assert.match(listed.stdout, new RegExp(`${jobs[2]!.id}\\s+queued.*starts \\d\\d:\\d\\d:\\d\\d, ends \\d\\d:\\d\\d:\\d\\d, runs ~\\d+s`));
      for (const job of jobs) assert.is((await waitForStatus(api, job.id, ['done', 'failed'], 60_000)).status, 'done');
      await sampler.stop();
      const reported = samples.filter((each) => each.status === 'encoding' && each.frame !== null);
      assert.ok(reported.length >= 5, `the first job was seen running (${reported.length})`);
      assert.ok(reported.every((each) => each.etaSeconds !== null), `an ETA from the first report on: ${reported.map((each) => each.etaSeconds).join(' ')}`);
      // What then happened: the third job started about when it was expected to.
      const started = Date.parse((await api.get(jobs[2]!.id)).startedAt!);
      const error = Math.abs(started - Date.parse(forecast.startsAt!)) / 1000;
      assert.ok(error < 4, `the third job started ${error.toFixed(1)} s off its forecast`);
      const report = (await (await daemon.authed('/api/forecast')).json()) as { kinds: { kind: string; runs: number }[] };
      assert.ok(report.kinds.some((kind) => kind.kind === jobs[0]!.kind && kind.runs === 5), JSON.stringify(report.kinds));
    } finally {
      await daemon.close();
    }
  });
});

test("between an encoder's reports (-stats_period 2) the ETA counts down; a job's own passes make one 0-100", async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 8, 24);
    const job = await api.submit({ command: encode(clip, join(dir.path, 'slow-stats.mp4'), '-stats_period', '2') });
    const samples: Job[] = [];
    const sampler = sampleEvery(250, async () => void samples.push(await api.get(job.id)));
    assert.is((await waitForStatus(api, job.id, ['done', 'failed'], 60_000)).status, 'done');
    await sampler.stop();
    const running = samples.filter((each) => each.status === 'encoding' && each.etaSeconds !== null && each.frame !== null);
    const countedDown = running.filter((each, index) => index > 0 && each.frame === running[index - 1]!.frame && each.etaSeconds! < running[index - 1]!.etaSeconds!);
    assert.ok(countedDown.length >= 2, `the ETA ran down between reports: ${running.map((each) => `${each.frame}:${each.etaSeconds}`).join(' ')}`);

    // A wrapper script the daemon can't read: two runs of ffmpeg, declared as two passes.
    const script = join(dir.path, 'two-runs.sh');
    const small = makeClip(join(dir.path, 'small.mp4'), 3, 24);
    const run = (...out: string[]) => [FFMPEG, '-hide_banner', '-y', '-re', '-i', small, '-c:v', 'libx264', '-preset', 'ultrafast', ...out].join(' ');
    writeFileSync(script, `#!/bin/sh\nset -e\n${run('-an', '-f', 'null', '-')}\n${run(join(dir.path, 'two.mp4'))}\n`);
    chmodSync(script, 0o755);
    const declared = await api.submit({ command: [script], passes: 2, output: join(dir.path, 'two.mp4') });
    const passSamples: Job[] = [];
    const passSampler = sampleEvery(100, async () => void passSamples.push(await api.get(declared.id)));
    const ended = await waitForStatus(api, declared.id, ['done', 'failed'], 60_000);
    await passSampler.stop();
    assert.is(ended.status, 'done', ended.error ?? '');
    const seen = passSamples.filter((each) => each.status === 'encoding' && each.progress !== null);
    const firstPass = seen.filter((each) => each.pass === 1);
    assert.ok(firstPass.length >= 3 && seen.some((each) => each.pass === 2 && each.passes === 2), `both passes seen: ${seen.map((each) => `${each.pass}:${each.progress}`).join(' ')}`);
    assert.ok(firstPass.every((each) => each.progress! <= 34), `pass 1 is the first third: ${firstPass.map((each) => each.progress).join(' ')}`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.progress! >= seen[i - 1]!.progress!, 'never backwards');
  });
});

test.run();
