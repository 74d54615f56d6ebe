// Resources, pure: which waiting jobs start on a box with cpu, gpu and nvenc capacity, how a big
// job stops being overtaken, which GPU a job gets; and the GPU detector fed nvidia-smi's answers.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Candidate, type Resources, StartPlanner, chooseDevices, freeResources, unmetNeeds } from '../machines/resources.js';
import { type GpuProbe, deviceIndices, detectGpus, detectedCapacity, parseGpuSamples, parseNvidiaSmi } from '../src/resources/gpu-detect.js';
import { gpuEnvironment, substituteGpu } from '../src/resources/gpu-handout.js';
import { parseResourceList } from '../src/resources/resource-spec.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/nvidia-smi/${name}`, import.meta.url), 'utf8');

/** One scheduling pass over the line, as the supervisor makes it. */
function pass(line: Candidate[], capacity: Resources, held: Resources[], slots: number, overtakes: Record<string, number>, maxOvertakes = 2): string[] {
  const planner = new StartPlanner(capacity, freeResources(capacity, held), slots, maxOvertakes, overtakes);
  return line.filter((job) => !planner.full && planner.consider(job).start).map((job) => job.id);
}

test('a job starts only when all it needs is free; smaller jobs behind a blocked one go on', () => {
  const capacity = { cpu: 4, gpu: 2, nvenc: 3 };
  const line: Candidate[] = [
    { id: 'big', needs: { cpu: 1, gpu: 2 } },
    { id: 'nvenc1', needs: { cpu: 1, gpu: 1, nvenc: 1 } },
    { id: 'cpu1', needs: { cpu: 1 } },
    { id: 'cpu2', needs: { cpu: 1 } },
  ];
  // One GPU busy: the big job waits, the one-GPU job and the CPU jobs start.
  assert.equal(pass(line, capacity, [{ cpu: 1, gpu: 1, nvenc: 1 }], Infinity, {}), ['nvenc1', 'cpu1', 'cpu2']);
  // The total cap still holds.
  assert.equal(pass(line, capacity, [], 1, {}), ['big']);
  // An undeclared resource is unlimited.
  assert.equal(pass([{ id: 'x', needs: { tpu: 9 } }], capacity, [], Infinity, {}), ['x']);
});

test('a big job overtaken maxOvertakes times has what frees up held for it, while jobs that need none of it go on', () => {
  const capacity = { cpu: 8, gpu: 2 };
  const overtakes: Record<string, number> = {};
  const big = { id: 'big', needs: { cpu: 1, gpu: 2 } };
  let running: { id: string; needs: Resources }[] = [{ id: 'r0', needs: { cpu: 1, gpu: 1 } }];
  const started: string[][] = [];
  // A steady stream of one-GPU jobs behind the big one; one running job ends each round.
  for (let round = 1; round <= 6; round++) {
    const line: Candidate[] = [big, { id: `small${round}`, needs: { cpu: 1, gpu: 1 } }, { id: `cpu${round}`, needs: { cpu: 1, gpu: 0 } }];
    const now = pass(line, capacity, running.map((job) => job.needs), Infinity, overtakes);
    started.push(now);
    if (now.includes('big')) break;
    running = [...running.slice(1), ...line.filter((job) => now.includes(job.id) && (job.needs['gpu'] ?? 0) > 0)];
  }
  assert.ok(started.flat().includes('big'), `the big job started: ${JSON.stringify(started)}`);
  assert.ok(started.length <= 4, `within a few rounds: ${JSON.stringify(started)}`);
  // Jobs that need no GPU were never held back.
  assert.ok(started.every((round, index) => round.includes(`cpu${index + 1}`)), JSON.stringify(started));
});

test('a job that needs more than the box has is refused, and never starts', () => {
  assert.match(unmetNeeds({ gpu: 3 }, { gpu: 2 }, 2)!, 'gpu=3 (this daemon has 2)');
  assert.match(unmetNeeds({ gpu: 1 }, {}, 0)!, 'no GPU');
  assert.is(unmetNeeds({ gpu: 1, nvenc: 1 }, { gpu: 1, nvenc: 3 }, 1), null);
  assert.equal(pass([{ id: 'huge', needs: { gpu: 3 } }, { id: 'ok', needs: { gpu: 1 } }], { gpu: 2 }, [], Infinity, {}, 0), ['ok']);
});

test('GPUs are handed out least loaded first, never past their share, avoiding the one a retry failed on', () => {
  assert.equal(chooseDevices([0, 1], { 0: 1 }, 1, 1), [1]);
  assert.equal(chooseDevices([0, 1], { 0: 1, 1: 1 }, 1, 1), []);
  assert.equal(chooseDevices([0, 1, 2], {}, 2, 1), [0, 1]);
  assert.equal(chooseDevices([0, 1], {}, 1, 2, [0]), [1]);
  assert.equal(chooseDevices([0], {}, 1, 2, [0]), [0], 'the only device, when nothing else has room');
  const env = gpuEnvironment([1], [{ index: 1, vendor: 'intel', name: 'Intel GPU', memoryMiB: null, renderNode: '/dev/dri/renderD129', nvencSessions: 0 }]);
  assert.equal(env, { CUDA_VISIBLE_DEVICES: '1', ENCSUP_GPU: '1', ENCSUP_RENDER_NODE: '/dev/dri/renderD129' });
  assert.equal(substituteGpu(['ffmpeg', '-hwaccel_device', '{gpu}', '-vaapi_device', '{render_node}'], [1], [{ index: 1, vendor: 'intel', name: '', memoryMiB: null, renderNode: '/dev/dri/renderD129', nvencSessions: 0 }]), ['ffmpeg', '-hwaccel_device', '1', '-vaapi_device', '/dev/dri/renderD129']);
});

test('resource lists are read with the wrong part named', () => {
  assert.equal(parseResourceList('cpu=2, gpu=1,nvenc=3', 'resources'), { cpu: 2, gpu: 1, nvenc: 3 });
  assert.throws(() => parseResourceList('gpu', '--needs'), /--needs: "gpu" is not NAME=AMOUNT/);
  assert.throws(() => parseResourceList('gpu=1.5', '--needs'), /--needs: gpu: expected a whole number/);
  assert.throws(() => parseResourceList('GPU=1', '--needs'), /resource name/);
  assert.throws(() => parseResourceList('gpu=-1', '--needs'), /0 or more/);
});

function recordedProbe(answers: Record<string, string | null>, renderNodes: { path: string; vendorId: string | null }[] = []): GpuProbe {
  return { run: async (file) => answers[file] ?? null, renderNodes: async () => renderNodes };
}

test('nvidia-smi answers of real cards: count, names, memory, and NVENC sessions as the default nvenc capacity', async () => {
  const geforce = await detectGpus(recordedProbe({ 'nvidia-smi': fixture('geforce-rtx3090-x2.csv') }));
  assert.equal(geforce.map((gpu) => [gpu.index, gpu.name, gpu.memoryMiB, gpu.nvencSessions]), [[0, 'NVIDIA GeForce RTX 3090', 24576, 8], [1, 'NVIDIA GeForce RTX 3090', 24576, 8]]);
  assert.equal(detectedCapacity(geforce), { gpu: 2, nvenc: 16 });
  const h100 = parseNvidiaSmi(fixture('h100.csv'));
  assert.equal(detectedCapacity(h100), { gpu: 1, nvenc: 0 }, 'an H100 has no NVENC engine');
  assert.equal(detectedCapacity(parseNvidiaSmi(fixture('tesla-t4-x4.csv'))), { gpu: 4 }, 'data-centre cards: no session cap');
  assert.equal(detectedCapacity(parseNvidiaSmi(fixture('mixed-a4000-gtx1660ti.csv'))), { gpu: 2 });
  assert.equal(parseNvidiaSmi(fixture('driver-not-loaded.txt')), [], 'the driver message is no GPU');
  assert.equal(parseGpuSamples(fixture('sample-rtx3090-x2.csv')), [
    { index: 0, utilizationPct: 3, memoryUsedMiB: 1204, temperatureC: 41 },
    { index: 1, utilizationPct: null, memoryUsedMiB: null, temperatureC: null },
  ]);
});

test('without NVIDIA cards, DRI render nodes are the GPUs (VAAPI, QSV); with neither, none', async () => {
  const intel = await detectGpus(recordedProbe({}, [{ path: '/dev/dri/renderD129', vendorId: '0x1002' }, { path: '/dev/dri/renderD128', vendorId: '0x8086' }]));
  assert.equal(intel.map((gpu) => [gpu.index, gpu.vendor, gpu.renderNode]), [[0, 'intel', '/dev/dri/renderD128'], [1, 'amd', '/dev/dri/renderD129']]);
  assert.equal(detectedCapacity(intel), { gpu: 2 });
  assert.equal(await detectGpus(recordedProbe({ 'nvidia-smi': null })), []);
  assert.equal(detectedCapacity([]), {});
  assert.equal(deviceIndices([], { gpu: 3 }), [0, 1, 2], 'a declared gpu=3 without detection');
});

test.run();
