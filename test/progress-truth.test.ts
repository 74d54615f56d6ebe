// Progress on everyday encodes that used to lie: two passes as one job from 0 to 100, trims and
// retimes measured against what is encoded, counters that restart. Real ffmpeg through a real
// daemon, sampled while it runs; the truth is what the encode did (its pass, its output frames).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import { planOf } from '../src/progress/encode-plan.js';
import { NO_COUNTERS, jobFraction, observeCounter } from '../src/progress/nested-counters.js';
import { parseLog } from '../src/progress/parse-log.js';
import { waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { FFMPEG, makeClip, probe } from './helpers/media.js';
import { sampleEvery } from './helpers/wait.js';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

async function sampled(api: { get(id: string): Promise<Job> }, id: string): Promise<{ samples: Job[]; ended: Job }> {
  const samples: Job[] = [];
  const sampler = sampleEvery(100, async () => void samples.push(await api.get(id)));
  const ended = await waitForStatus(api as never, id, ['done', 'failed'], 90_000);
  await sampler.stop();
  return { samples: samples.filter((job) => job.status === 'encoding'), ended };
}

/** A job's percent, with an unknown total (null) read as nothing done yet. */
const percent = (job: Job) => job.progress ?? 0;

function assertMonotonic(samples: Job[]): void {
  for (let i = 1; i < samples.length; i++) {
    const [before, after] = [samples[i - 1]!.progress, samples[i]!.progress];
    assert.ok(!(before !== null && after === null), 'once known, the percent never becomes unknown again');
    assert.ok((after ?? 0) >= (before ?? 0), `never backwards: ${before} then ${after}`);
  }
}

test('a two-pass shell job is one job from 0 to 100: pass 1 is its first third, and 100 only at the end', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 6, 24);
    const encode = (pass: number, out: string) => `${FFMPEG} -hide_banner -y -re -i ${clip} -c:v libx264 -preset ultrafast -b:v 400k -pass ${pass} -passlogfile ${join(dir.path, 'log')} ${pass === 1 ? '-an -f null /dev/null' : out}`;
    const output = join(dir.path, 'two-pass.mp4');
    const job = await api.submit({ command: `${encode(1, '')} && ${encode(2, output)}`, shell: true, output, cwd: dir.path });
    const { samples, ended } = await sampled(api, job.id);
    assert.is(ended.status, 'done', ended.error ?? '');
    assert.is(ended.progress, 100);
    assertMonotonic(samples);
    const first = samples.filter((each) => each.pass === 1 && percent(each) > 0);
    const second = samples.filter((each) => each.pass === 2);
    assert.ok(first.length >= 3 && second.length >= 3, `both passes seen (${first.length}, ${second.length})`);
    assert.ok(first.every((each) => each.passes === 2 && percent(each) <= 34), `pass 1 stays within its third: ${first.map((each) => percent(each)).join(' ')}`);
    const firstEnd = Math.max(...first.map((each) => percent(each)));
    // 100 only once pass 2 has encoded its last frame (its last report), never before.
    const beforeLastReport = second.filter((each) => each.frame !== second.at(-1)!.frame);
    assert.ok(second.every((each) => percent(each) >= firstEnd), `pass 2 goes on from where pass 1 ended (${firstEnd})`);
    assert.ok(beforeLastReport.every((each) => percent(each) < 100), `not done before pass 2 ends: ${second.map((each) => percent(each)).join(' ')}`);
    assert.ok(Math.max(...second.map((each) => percent(each))) > 80, 'and it gets near the end');
  });
});

test('a trimmed encode (-ss/-t) and a retimed one (setpts) are measured against what they encode', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 12, 24);
    for (const [name, args, seconds] of [
      ['trim', ['-ss', '2', '-t', '4'], 4],
      ['setpts', ['-vf', 'setpts=0.5*PTS'], 6],
    ] as const) {
      const output = join(dir.path, `${name}.mp4`);
      const job = await api.submit({ command: [FFMPEG, '-hide_banner', '-y', '-re', '-i', clip, ...args, '-c:v', 'libx264', '-preset', 'ultrafast', output], output });
      const { samples, ended } = await sampled(api, job.id);
      assert.is(ended.status, 'done', ended.error ?? '');
      assertMonotonic(samples);
      const outputSeconds = Number(probe(output).format.duration);
      assert.ok(Math.abs(outputSeconds - seconds) < 0.5, `${name}: the output is ${outputSeconds} s`);
      // Before: the total was the whole input, so these sat at a third or a half, then jumped.
      const last = samples.at(-1)!;
      assert.ok(percent(last) >= 75, `${name}: near the end the job says ${percent(last)} %`);
      const working = samples.filter((each) => percent(each) > 0);
      const middle = working[Math.floor(working.length / 2)];
      assert.ok(middle && percent(middle) >= 25 && percent(middle) <= 85, `${name}: half way it says ${middle ? percent(middle) : '-'} %`);
    }
  });
});

test('several inputs joined with concat count every input, not the first', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const a = makeClip(join(dir.path, 'a.mp4'), 3, 24);
    const b = makeClip(join(dir.path, 'b.mp4'), 6, 24);
    const output = join(dir.path, 'joined.mp4');
    const job = await api.submit({
      command: [FFMPEG, '-hide_banner', '-y', '-re', '-i', a, '-re', '-i', b, '-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0[v]', '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', output],
      output,
    });
    const { samples, ended } = await sampled(api, job.id);
    assert.is(ended.status, 'done', ended.error ?? '');
    assertMonotonic(samples);
    // Before: the total was the first input's 3 s, so the job sat at 100 % for the last two thirds.
    const atTwoThirds = samples.filter((each) => (each.frame ?? 0) >= 144 && (each.frame ?? 0) < 170);
    assert.ok(atTwoThirds.length > 0 && atTwoThirds.every((each) => percent(each) < 90), `two thirds in (frame 144 of 216): ${atTwoThirds.map((each) => percent(each)).join(' ')}`);
  });
});

test('nested tqdm bars: the outer bar is the job, the inner one refines it, against the script\'s own log of its progress', async () => {
  await withTestDaemon({}, async ({ api, dir }) => {
    const script = String.raw`import time, sys
from tqdm import tqdm
log = open('truth.log', 'w')
for i in tqdm(range(10), desc='items', position=0, file=sys.stdout):
    for j in tqdm(range(50), desc='steps', position=1, leave=False, file=sys.stdout):
        time.sleep(0.006)
        log.write(str((i * 50 + j + 1) / 5) + chr(10)); log.flush()
`;
    writeFileSync(join(dir.path, 'nested.py'), script);
    // Debian's python3, where .ci/run installs python3-tqdm.
    const job = await api.submit({ command: ['/usr/bin/python3', 'nested.py'], cwd: dir.path });
    const errors: number[] = [];
    const samples: Job[] = [];
    const sampler = sampleEvery(100, async () => {
      const seen = await api.get(job.id);
      const truth = Number(readFileSync(join(dir.path, 'truth.log'), 'utf8').trim().split('\n').at(-1) ?? 0);
      if (seen.status !== 'encoding') return;
      samples.push(seen);
      errors.push(Math.abs(percent(seen) - truth));
    });
    const ended = await waitForStatus(api, job.id, ['done', 'failed'], 60_000);
    await sampler.stop();
    assert.is(ended.status, 'done', ended.logTail.join('\n'));
    assertMonotonic(samples);
    errors.sort((a, b) => a - b);
    const median = errors[Math.floor(errors.length / 2)]!;
    // Before: 96 % after the first inner loop (10 % of the work), then stuck there.
    assert.ok(errors.length >= 5 && median <= 10, `median error ${median.toFixed(1)} points over ${errors.length} samples: ${samples.map((each) => percent(each)).join(' ')}`);
  });
});

test('nested counters: a restarting inner counter refines the outer one and never moves it back or to 100', async () => {
  let counters = NO_COUNTERS;
  const seen: number[] = [];
  for (let item = 0; item < 4; item++) {
    counters = observeCounter(counters, 'items/4', item, 4);
    seen.push(jobFraction(counters)!);
    for (let step = 1; step <= 5; step++) {
      counters = observeCounter(counters, 'steps/5', step, 5);
      seen.push(jobFraction(counters)!);
    }
  }
  counters = observeCounter(counters, 'items/4', 4, 4);
  seen.push(jobFraction(counters)!);
  assert.equal(seen.slice(0, 7).map((each) => Math.round(each * 100)), [0, 5, 10, 15, 20, 25, 25]);
  assert.ok(seen.at(-2)! < 1 && seen.at(-2)! > 0.99, 'the last inner step takes the job to just short of 100');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `never backwards at ${i}: ${seen[i - 1]} then ${seen[i]}`);
  assert.ok(seen.slice(0, -1).every((each) => each < 1), '100 only when the outer counter ends');
  assert.is(seen.at(-1), 1);
});

test('with nothing to tell the total (a stream from a pipe), progress is unknown, not 0 %, while frames keep counting', async () => {
  await withTestDaemon({}, async ({ api, authed, dir }) => {
    const clip = makeClip(join(dir.path, 'in.mp4'), 4, 24);
    const output = join(dir.path, 'from-pipe.mp4');
    const command = `${FFMPEG} -hide_banner -loglevel error -re -i ${clip} -c copy -f mpegts - | ${FFMPEG} -hide_banner -y -probesize 32 -analyzeduration 0 -f mpegts -i - -c:v libx264 -preset ultrafast ${output}`;
    const stop = new AbortController();
    const events = await authed('/api/events', { signal: stop.signal });
    const job = await api.submit({ command, shell: true, output });
    let text = '';
    const reader = events.body!.getReader();
    while (!text.includes('"kind":"done"')) text += new TextDecoder().decode((await reader.read()).value);
    stop.abort();
    const live = [...text.matchAll(/event: live\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as { jobId: string; progress: Job }).filter((each) => each.jobId === job.id).map((each) => each.progress);
    const counting = live.filter((each) => (each.frame ?? 0) > 0);
    assert.ok(counting.length >= 3, `frames seen while it ran (${counting.length} live updates)`);
    assert.ok(counting.every((each) => each.progress === null && each.etaSeconds === null), `unknown, not a number: ${counting.map((each) => each.progress).join(' ')}`);
    assert.ok(new Set(counting.map((each) => each.frame)).size >= 3, 'the frame count stays live');
    const ended = await waitForStatus(api, job.id, ['done', 'failed']);
    assert.is(ended.status, 'done', ended.error ?? '');
    assert.is(ended.progress, 100, 'done is 100 %');
  });
});

test('encsup parse reads a two-pass log as the daemon does when given the command', async () => {
  const stats = (frame: number) => `frame=${String(frame).padStart(5)} fps= 50 q=28.0 size=     100kB time=00:00:${String(Math.floor(frame / 24)).padStart(2, '0')}.00 bitrate= 100kbits/s speed=2x\r`;
  const header = '  Duration: 00:00:10.00, start: 0.000000, bitrate: 1000 kb/s\n    Stream #0:0(und): Video: h264, yuv420p, 320x240, 24 fps, 24 tbr\n';
  const log = [header, ...[48, 120, 240].map(stats), '\n', header, ...[48, 120, 240].map(stats), '\n'];
  const plan = planOf(['ffmpeg -i in.mp4 -pass 1 -f null /dev/null && ffmpeg -i in.mp4 -pass 2 out.mp4'], true);
  const updates = await lastValueFrom(parseLog(log, { parser: 'auto', plan }).pipe(toArray()));
  assert.equal(updates.map((each) => [each.pass, Math.round(each.percent ?? -1)]), [[1, 7], [1, 17], [1, 33], [2, 47], [2, 67], [2, 100]]);
  // A wrapper script's log: the passes as the job declared them, weighed as the daemon learned them.
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'job.log'), log.join(''));
    const parsed = await cli(['parse', '--passes', '2', '--first-pass-share', '0.5', join(dir.path, 'job.log')]);
    assert.is(parsed.code, 0, parsed.stderr);
    const lines = parsed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { pass: number; percent: number; basis: string });
    assert.equal(lines.map((each) => [each.pass, Math.round(each.percent)]), [[1, 10], [1, 25], [1, 50], [2, 60], [2, 75], [2, 100]]);
    assert.is(lines[0]!.basis, 'frames');
    assert.match((await cli(['parse', '--passes', '2.5', join(dir.path, 'job.log')])).stderr, /--passes 2.5: expected a whole number/);
  } finally {
    dir.remove();
  }
});

test.run();
