// Resources on a real daemon with real encodes: what runs never holds more than the box has
// (sampled while they run), jobs start in priority order, each GPU job gets its own device in its
// environment and command, a big job is not starved and does not starve jobs that need none of
// what it waits for; jobs that could never run are refused; capacity changes at runtime.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Job } from '../machines/job-record.js';
import type { ApiClient } from '../src/api/client.js';
import { postRaw, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { FFMPEG } from './helpers/media.js';
import { until } from './helpers/wait.js';

const CAPACITY = { cpu: 8, gpu: 2, nvenc: 3 };

/** A real encode that writes down the GPU it was given (its environment and its command's {gpu}). */
function gpuEncode(dir: string, name: string, seconds: number): string {
  const output = join(dir, `${name}.mp4`);
  return `echo "$CUDA_VISIBLE_DEVICES {gpu}" > ${join(dir, `${name}.gpu`)} && exec ${FFMPEG} -hide_banner -y -re -f lavfi -i testsrc2=duration=${seconds}:size=160x120:rate=24 -c:v libx264 -preset ultrafast ${output}`;
}

/** Samples what the running jobs hold until every job has ended; the most of each resource at once. */
async function sampleHeld(api: ApiClient, ids: string[]): Promise<{ peak: Record<string, number>; gpuClash: boolean }> {
  const peak: Record<string, number> = {};
  let gpuClash = false;
  for (;;) {
    const jobs = await Promise.all(ids.map((id) => api.get(id)));
    const running = jobs.filter((job) => job.status === 'encoding' || job.status === 'finalizing');
    const held: Record<string, number> = {};
    for (const job of running) for (const [name, amount] of Object.entries(job.needs)) held[name] = (held[name] ?? 0) + amount;
    for (const [name, amount] of Object.entries(held)) peak[name] = Math.max(peak[name] ?? 0, amount);
    const gpus = running.flatMap((job) => job.gpus ?? []);
    if (new Set(gpus).size !== gpus.length) gpuClash = true;
    if (jobs.every((job) => ['done', 'failed', 'cancelled'].includes(job.status))) return { peak, gpuClash };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('real encodes never hold more than the box has, start by priority, and each gets its own GPU', async () => {
  await withTestDaemon({ maxConcurrent: 0, resources: 'cpu=8,gpu=2,nvenc=3' }, async ({ api, dir }) => {
    await api.pause();
    const jobs: Job[] = [];
    for (let n = 0; n < 6; n++) {
      jobs.push(await api.submit({ command: gpuEncode(dir.path, `nv${n}`, 1.5), shell: true, name: `nvenc ${n}`, priority: n, needs: { gpu: 1, nvenc: 1 }, validate: false }));
    }
    assert.match((await api.get(jobs[0]!.id)).waitingFor!, 'paused');
    await api.resume();
    const { peak, gpuClash } = await sampleHeld(api, jobs.map((job) => job.id));
    assert.ok(peak['gpu']! <= CAPACITY.gpu && peak['nvenc']! <= CAPACITY.nvenc && peak['cpu']! <= CAPACITY.cpu, JSON.stringify(peak));
    assert.is(peak['gpu'], 2, 'both GPUs were used at once');
    assert.not.ok(gpuClash, 'no two running jobs shared a GPU');
    const ended = await Promise.all(jobs.map((job) => api.get(job.id)));
    assert.ok(ended.every((job) => job.status === 'done'), ended.map((job) => `${job.status} ${job.error}`).join(', '));
    // Highest priority first: the start order is the priority order, two at a time.
    const byStart = [...ended].sort((a, b) => a.startedAt!.localeCompare(b.startedAt!) || b.priority - a.priority);
    assert.equal(byStart.slice(0, 2).map((job) => job.priority).sort(), [4, 5]);
    assert.equal(byStart.slice(-2).map((job) => job.priority).sort(), [0, 1]);
    for (const job of ended) {
      const [env, arg] = readFileSync(join(dir.path, `${job.name.replace('nvenc ', 'nv')}.gpu`), 'utf8').trim().split(' ');
      assert.equal([Number(env), Number(arg)], [job.gpus![0], job.gpus![0]], `${job.name} saw its GPU`);
    }
  });
});

test('a two-GPU job is not starved by a stream of one-GPU jobs, and jobs that need no GPU are not held behind it', async () => {
  await withTestDaemon({ maxConcurrent: 0, resources: 'cpu=16,gpu=2', maxOvertakes: 2 }, async ({ api, dir }) => {
    const first = await api.submit({ command: gpuEncode(dir.path, 'first', 2), shell: true, needs: { gpu: 1 }, validate: false, name: 'first' });
    await waitForStatus(api, first.id, ['encoding']);
    const big = await api.submit({ command: gpuEncode(dir.path, 'big', 1), shell: true, needs: { gpu: 2 }, validate: false, name: 'big' });
    const small: Job[] = [];
    const cpuOnly: Job[] = [];
    for (let n = 0; n < 6; n++) {
      small.push(await api.submit({ command: gpuEncode(dir.path, `small${n}`, 1), shell: true, needs: { gpu: 1 }, validate: false, name: `small ${n}` }));
      cpuOnly.push(await api.submit({ command: ['sleep', '0.2'], needs: { cpu: 1 }, name: `cpu ${n}` }));
    }
    await until(async () => (await api.get(big.id)).waitingFor, 'the big job to say what it waits for');
    assert.match((await api.get(big.id)).waitingFor!, 'gpu=2');
    const all = [first, big, ...small, ...cpuOnly];
    await sampleHeld(api, all.map((job) => job.id));
    const ended = await Promise.all(all.map((job) => api.get(job.id)));
    assert.ok(ended.every((job) => job.status === 'done'), ended.map((job) => `${job.name} ${job.status}`).join(', '));
    const bigStart = ended.find((job) => job.id === big.id)!.startedAt!;
    const smallBeforeBig = ended.filter((job) => job.name.startsWith('small') && job.startedAt! < bigStart).length;
    assert.ok(smallBeforeBig <= 2, `at most --max-overtakes one-GPU jobs went ahead of it (${smallBeforeBig})`);
    assert.ok(ended.filter((job) => job.name.startsWith('cpu')).every((job) => job.startedAt! < bigStart), 'jobs that need no GPU ran while it waited');
  });
});

test('a job that could never run here is refused at submit; capacity changes at runtime', async () => {
  await withTestDaemon({ resources: 'gpu=1' }, async ({ api, authed }) => {
    const tooBig = await postRaw({ authed }, '/api/jobs', JSON.stringify({ command: ['true'], needs: { gpu: 2 } }));
    assert.equal([tooBig.status, tooBig.json.field], [400, 'needs']);
    assert.match(tooBig.json.error, 'gpu=2 (this daemon has 1)');
    const badName = await postRaw({ authed }, '/api/jobs', JSON.stringify({ command: ['true'], needs: { 'GPU!': 1 } }));
    assert.equal([badName.status, badName.json.field], [400, 'needs']);
    assert.equal((await api.updateSettings({ resources: { gpu: 2, nvenc: 4 } })).resources, { gpu: 2, nvenc: 4 });
    const fits = await api.submit({ command: ['true'], needs: { gpu: 2 } });
    assert.equal((await waitForStatus(api, fits.id, ['done'])).gpus, [0, 1]);
  });
  await withTestDaemon({}, async ({ authed }) => {
    const noGpu = await postRaw({ authed }, '/api/jobs', JSON.stringify({ command: ['true'], needs: { gpu: 1 } }));
    assert.is(noGpu.status, 400);
    assert.match(noGpu.json.error, 'no GPU');
  });
});

test.run();
