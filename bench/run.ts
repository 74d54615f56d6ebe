// `npm run bench [-- --quick] [-- --only NAME,...]`: every figure next to its baseline, measured in
// this one process; a markdown table on standard output, and bench/results.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashboard } from './figures/dashboard.js';
import { detection } from './figures/detection.js';
import { etaAccuracy } from './figures/eta.js';
import { farm } from './figures/farm.js';
import { hostileOutput } from './figures/hostile.js';
import { parserThroughput } from './figures/parser.js';
import { realEncodes } from './figures/real-encodes.js';
import { scale } from './figures/scale.js';
import { shortJobs } from './figures/short-jobs.js';
import { storeWrites } from './figures/store-writes.js';
import type { Figure } from './lib.js';

const FIGURES: Record<string, (quick: boolean, dir: string) => Promise<Figure[]>> = {
  encodes: realEncodes,
  'short-jobs': shortJobs,
  parser: parserThroughput,
  detection,
  'store-writes': storeWrites,
  scale,
  eta: etaAccuracy,
  hostile: hostileOutput,
  dashboard,
  farm,
};

const quick = process.argv.includes('--quick');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '').split(',') : Object.keys(FIGURES);
const unknown = only.filter((name) => !(name in FIGURES));
if (unknown.length > 0) {
  console.error(`unknown figure ${unknown.join(', ')}: choose from ${Object.keys(FIGURES).join(', ')}`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'encsup-bench-'));
const results: Figure[] = [];
const started = performance.now();
try {
  for (const name of only) {
    const figureStart = performance.now();
    process.stderr.write(`${name}… `);
    results.push(...(await FIGURES[name]!(quick, dir)));
    process.stderr.write(`${((performance.now() - figureStart) / 1000).toFixed(1)} s\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nencsup benchmarks${quick ? ' (--quick)' : ''}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
console.log('| figure | encsup | baseline | ratio | baseline is |');
console.log('| --- | --- | --- | --- | --- |');
// A figure with no value (an ETA before any estimate exists) says so instead of NaN.
const shown = (value: number, unit: string) => (Number.isNaN(value) ? 'no estimate yet' : `${value} ${unit}`);
for (const r of results) console.log(`| ${r.name} | ${shown(r.value, r.unit)} | ${shown(r.baseline, r.unit)} | ${Number.isNaN(r.ratio) ? '–' : r.ratio} | ${r.against} |`);
writeFileSync(new URL(quick ? './results-quick.json' : './results.json', import.meta.url), `${JSON.stringify(results.map(({ against: _a, ...r }) => r), null, 2)}\n`);
process.exit(0);
