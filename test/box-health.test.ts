// The box's health on a real daemon: free space, load, memory, resources, GPUs (nvidia-smi answers
// fed through the detector's adapter), store latency, failures by kind, and warnings before things
// fail; the same on /metrics. And the mistakes refused at submit, and external jobs that fail
// honestly.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NVIDIA_SMI_QUERY, type GpuProbe } from '../src/resources/gpu-detect.js';
import type { HealthReport } from '../src/health/health-report.js';
import { postRaw, waitForStatus, withTestDaemon } from './helpers/daemon.js';
import { cli } from './helpers/cli.js';
import { makeClip } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/nvidia-smi/${name}`, import.meta.url), 'utf8');

/** nvidia-smi as two RTX 3090s answer it; what the sample query answers can change during the test. */
function recordedCards(): { probe: GpuProbe; sample: { text: string } } {
  const sample = { text: fixture('sample-rtx3090-x2.csv') };
  return {
    sample,
    probe: {
      run: async (file, args) => (file !== 'nvidia-smi' ? null : args[0] === NVIDIA_SMI_QUERY[0] ? fixture('geforce-rtx3090-x2.csv') : sample.text),
      renderNodes: async () => [],
    },
  };
}

test('/healthz and /metrics report disks, host, resources, GPUs, store latency and failures, and warn before things fail', async () => {
  const cards = recordedCards();
  await withTestDaemon(
    { resources: 'auto,cpu=4', maxAttempts: 1 },
    async ({ api, authed, url }) => {
      const failing = await api.submit({ command: ['sh', '-c', 'echo "x.mp4: Invalid data found when processing input"; exit 1'], validate: false });
      await waitForStatus(api, failing.id, ['failed']);
      const health = (await (await fetch(`${url}/healthz`)).json()) as HealthReport;
      assert.is(health.ok, true);
      assert.equal(health.resources.capacity, { gpu: 2, nvenc: 16, cpu: 4 });
      assert.equal(health.gpus.map((gpu) => [gpu.index, gpu.name, gpu.present, gpu.temperatureC, gpu.utilizationPct]), [
        [0, 'NVIDIA GeForce RTX 3090', true, 41, 3],
        [1, 'NVIDIA GeForce RTX 3090', true, null, null],
      ]);
      assert.ok(health.disks.length >= 1 && health.disks.every((disk) => disk.freeBytes !== null && disk.freeBytes > 0), JSON.stringify(health.disks));
      assert.ok(health.host.memoryTotalBytes > 0 && health.host.cpus > 0 && health.host.load.length === 3);
      assert.ok(health.store.commitMs.lastMs !== null, 'the store has committed and says how long it took');
      assert.equal(health.failures.lastHour, { 'corrupt-input': 1 });
      assert.equal(health.warnings, []);

      const metrics = await (await authed('/metrics')).text();
      assert.match(metrics, 'encsup_gpu_temperature_celsius{gpu="0"} 41');
      assert.match(metrics, 'encsup_resource_capacity{resource="nvenc"} 16');
      assert.match(metrics, /encsup_disk_free_bytes\{folder="[^"]+"\} \d+/);
      const checked = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      assert.is(checked.status, 0, `${checked.stdout}${checked.stderr}`);

      // A card falls off the bus and another runs hot: both are warned of, the daemon stays up.
      cards.sample.text = '0, 97, 20000, 91\n';
      const warned = await until(async () => {
        const now = (await (await fetch(`${url}/healthz`)).json()) as HealthReport;
        return now.warnings.length >= 2 ? now : null;
      }, 'the GPU warnings', 15_000);
      assert.ok(warned.warnings.some((warning) => /GPU 1 \(NVIDIA GeForce RTX 3090\) is gone/.test(warning)), warned.warnings.join(' | '));
      assert.ok(warned.warnings.some((warning) => /GPU 0 .* is hot: 91 °C/.test(warning)), warned.warnings.join(' | '));
      assert.match(await (await authed('/metrics')).text(), 'encsup_gpu_present{gpu="1"} 0');
    },
    { gpuProbe: cards.probe },
  );
});

test('a disk under --min-free is warned of, and /healthz stays 200', async () => {
  await withTestDaemon({ minFreeBytes: '1000T' }, async ({ url }) => {
    const response = await fetch(`${url}/healthz`);
    const health = (await response.json()) as HealthReport;
    assert.is(response.status, 200);
    assert.ok(health.warnings.some((warning) => warning.includes('under --min-free')), health.warnings.join(' | '));
  });
});

test('mistakes are refused at submit with the reason: a program not on PATH, a missing input, an external output nothing watches', async () => {
  await withTestDaemon({}, async ({ api, authed, dir, url }) => {
    const refused = async (body: Record<string, unknown>) => postRaw({ authed }, '/api/jobs', JSON.stringify({ cwd: dir.path, ...body }));
    const noProgram = await refused({ command: ['nosuchprogram', '-x'] });
    assert.equal([noProgram.status, noProgram.json.field], [400, 'command']);
    assert.match(noProgram.json.error, "nosuchprogram is not a program on the daemon's machine");
    writeFileSync(join(dir.path, 'script.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(dir.path, 'script.sh'), 0o644);
    assert.match((await refused({ command: ['./script.sh'] })).json.error, 'no executable file there');
    const noInput = await refused({ command: ['ffmpeg', '-i', 'missing.mov', 'out.mp4'] });
    assert.equal([noInput.status, noInput.json.field], [400, 'command']);
    assert.match(noInput.json.error, `the input ${join(dir.path, 'missing.mov')} does not exist`);
    assert.is((await refused({ command: ['ffmpeg', '-f', 'lavfi', '-i', 'testsrc2=duration=1', '-f', 'null', '-'] })).status, 201, 'a lavfi graph is not a file');
    const external = await refused({ external: true, output: join(dir.path, 'elsewhere.mp4') });
    assert.equal([external.status, external.json.field], [400, 'output']);
    assert.match(external.json.error, 'no watched folder');
    // Made by another job later: accepted when asked, and failing as input-missing, not retried.
    const later = await api.submit({ command: ['ffmpeg', '-hide_banner', '-i', join(dir.path, 'later.mov'), join(dir.path, 'o.mp4')], checkInputs: false });
    const failed = await waitForStatus(api, later.id, ['failed']);
    assert.equal([failed.failureKind, failed.attempts], ['input-missing', 1]);
    const typed = await cli(['--url', url, '--data-dir', dir.path, 'submit', '--', 'nosuchprogram']);
    assert.is(typed.code, 1);
    assert.match(typed.stderr, 'nosuchprogram is not a program');
  });
});

test('an external job whose output fails its check ends failed with the reason, or waits for a replacement when it asked to', async () => {
  const reports = tempDir();
  try {
    await withTestDaemon({ reportDirs: reports.path, watchStabilitySec: 0.3, retryBackoffSec: 0.2 }, async ({ api }) => {
      const broken = join(reports.path, 'broken.mp4');
      const honest = await api.submit({ external: true, output: broken });
      // A real encode cut short: its first 20 kB, with no moov atom.
      writeFileSync(broken, readFileSync(makeClip(join(reports.path, 'whole.mkv'), 2)).subarray(0, 20_000));
      await api.reportOutput(broken).catch(() => undefined);
      const failed = await waitForStatus(api, honest.id, ['failed', 'done']);
      assert.is(failed.status, 'failed');
      assert.match(failed.error!, 'an external job is not retried');
      assert.is(failed.failureKind, 'output-check');
      assert.ok(failed.failureEvidence && failed.failureEvidence.length > 0, 'the check says what is wrong with the file');

      const replaced = join(reports.path, 'replaced.mp4');
      const patient = await api.submit({ external: true, output: replaced, waitForReplacement: true });
      writeFileSync(replaced, 'not a video either');
      await api.reportOutput(replaced).catch(() => undefined);
      const waiting = await until(async () => (await api.get(patient.id)).waitingFor, 'it to say it waits for a replacement', 15_000);
      assert.match(waiting, 'replacement');
      makeClip(replaced, 1);
      await until(async () => (await api.reportOutput(replaced).then(() => true, () => false)) && (await api.get(patient.id)).status === 'done', 'the replacement to be taken', 20_000);
      const done = await api.get(patient.id);
      assert.is(done.status, 'done');
      assert.is(done.history[0]!.failureKind, 'output-check');
    });
  } finally {
    reports.remove();
  }
});

test.run();
