// Time from a writer closing an output file to its job being done, through a real daemon watching a
// real folder (external jobs, so nothing but the watch is measured), next to the original system's
// way in the same process: a poll every 5 s for the file. p50 and p95 over the files.
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFinished } from '../machines/job-record.js';
import { resolveConfig } from '../src/config.js';
import { startDaemon } from '../src/daemon.js';
import { createDefaultDeps } from '../src/deps.js';
import { silentLogger } from '../src/logger.js';

const quick = process.argv.includes('--quick');
const files = quick ? 4 : 12;
const POLL_MS = 5000;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function measure(stabilitySec: number): Promise<{ encsup: number[]; polling: number[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'encsup-bench-detect-'));
  const watched = mkdtempSync(join(tmpdir(), 'encsup-bench-watched-'));
  const config = resolveConfig({ dataDir, port: 0, watchDirs: watched, watchStabilitySec: stabilitySec }, {});
  const daemon = await startDaemon(config, createDefaultDeps({ logger: silentLogger }));
  const encsup: number[] = [];
  const polling: number[] = [];
  for (let i = 0; i < files; i++) {
    const output = join(watched, `out${i}.mp4`);
    const job = await daemon.control.submit({ external: true, output, validate: false });
    await daemon.ledger.waitFor(job.id, (j) => j.status === 'encoding', 5000);
    const fd = openSync(output, 'w');
    for (let chunk = 0; chunk < 8; chunk++) writeSync(fd, Buffer.alloc(256 * 1024, chunk));
    closeSync(fd);
    const closedMs = performance.now();
    // The baseline: a poll every 5 s, its phase as random as a real one's would be.
    const polled = new Promise<number>((resolve) => {
      const firstPoll = Math.random() * POLL_MS;
      const poll = () => (existsSync(output) ? resolve(performance.now() - closedMs) : setTimeout(poll, POLL_MS));
      setTimeout(poll, firstPoll);
    });
    const done = await daemon.ledger.waitFor(job.id, (j) => isFinished(j.status), 30_000);
    if (done?.status !== 'done') throw new Error(`job ${job.id} ended ${done?.status}: ${done?.error}`);
    encsup.push(performance.now() - closedMs);
    polling.push(await polled);
  }
  await daemon.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(watched, { recursive: true, force: true });
  return { encsup, polling };
}

const results: { name: string; value: number; unit: string; baseline: number; ratio: number }[] = [];
console.log(`Detection: writer closes the file → job done, ${files} files each, against a 5 s poll in the same process\n`);
console.log('| watcher stability window | encsup p50 | encsup p95 | 5 s poll p50 | 5 s poll p95 |');
console.log('| --- | --- | --- | --- | --- |');
for (const stabilitySec of [2, 0.5]) {
  const { encsup, polling } = await measure(stabilitySec);
  const row = [percentile(encsup, 50), percentile(encsup, 95), percentile(polling, 50), percentile(polling, 95)].map((ms) => Math.round(ms));
  console.log(`| ${stabilitySec} s${stabilitySec === 2 ? ' (default)' : ''} | ${row[0]} ms | ${row[1]} ms | ${row[2]} ms | ${row[3]} ms |`);
  results.push({ name: `detect-p50-stability-${stabilitySec}s`, value: row[0]!, unit: 'ms', baseline: row[2]!, ratio: Math.round((row[0]! / row[2]!) * 100) / 100 });
  results.push({ name: `detect-p95-stability-${stabilitySec}s`, value: row[1]!, unit: 'ms', baseline: row[3]!, ratio: Math.round((row[1]! / row[3]!) * 100) / 100 });
}
writeFileSync(new URL('./detection-results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
