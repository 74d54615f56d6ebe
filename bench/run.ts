// `npm run bench [-- --quick] [-- --only NAME,...] [-- --out FILE] [-- --update-reference]`: every
// figure next to its baseline, measured in one run, and held to its goal. A markdown table on
// standard output (goal, now, baseline, the committed reference); the results as JSON outside
// the source tree (--out, else a file in the system's temporary folder, named in the output).
// bench/reference.json holds the figures the README quotes: changed only with --update-reference.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cliStart } from './figures/cli.js';
import { dashboard } from './figures/dashboard.js';
import { detection } from './figures/detection.js';
import { etaAccuracy } from './figures/eta.js';
import { farm } from './figures/farm.js';
import { hostileOutput } from './figures/hostile.js';
import { idleCpu } from './figures/idle.js';
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
  cli: cliStart,
  eta: etaAccuracy,
  hostile: hostileOutput,
  dashboard,
  farm,
  idle: idleCpu,
};

const REFERENCE = new URL('./reference.json', import.meta.url).pathname;

interface Results {
  at: string;
  quick: boolean;
  machine: { cpus: string; cores: number; memoryGiB: number; node: string; ffmpeg: string };
  figures: Figure[];
}

const argv = process.argv.slice(2);
const flagValue = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const quick = argv.includes('--quick');
const only = (flagValue('--only') ?? Object.keys(FIGURES).join(',')).split(',');
const unknown = only.filter((name) => !(name in FIGURES));
if (unknown.length > 0) {
  console.error(`unknown figure ${unknown.join(', ')}: choose from ${Object.keys(FIGURES).join(', ')}`);
  process.exit(2);
}
const out = resolve(flagValue('--out') ?? join(tmpdir(), 'encsup-bench', `results${quick ? '-quick' : ''}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));

// Several figures run the daemon as it runs in production: the built JavaScript.
process.stderr.write('building dist/… ');
execFileSync(process.execPath, [new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, '-p', new URL('../tsconfig.build.json', import.meta.url).pathname], { stdio: 'inherit' });
process.stderr.write('done\n');

const dir = mkdtempSync(join(tmpdir(), 'encsup-bench-'));
const figures: Figure[] = [];
const started = performance.now();
try {
  for (const name of only) {
    const figureStart = performance.now();
    process.stderr.write(`${name}… `);
    figures.push(...(await FIGURES[name]!(quick, dir)));
    process.stderr.write(`${((performance.now() - figureStart) / 1000).toFixed(1)} s\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const results: Results = { at: new Date().toISOString(), quick, machine: machine(), figures };
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
const reference = existsSync(REFERENCE) ? (JSON.parse(readFileSync(REFERENCE, 'utf8')) as Results) : null;

console.log(`\nencsup benchmarks${quick ? ' (--quick)' : ''}: ${((performance.now() - started) / 1000).toFixed(0)} s on ${describe(results.machine)}\n`);
console.log(`| figure | goal | now | baseline | ratio | baseline is | reference${reference ? ` (${reference.at.slice(0, 10)})` : ''} |`);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
// A figure with no value (an ETA before any estimate exists) says so instead of NaN.
const shown = (value: number | undefined, unit: string) => (value === undefined ? '–' : Number.isNaN(value) ? 'no estimate yet' : `${value} ${unit}`);
for (const f of figures) {
  const goal = f.goal ? `${f.goal.text} ${f.goal.met ? '✓' : '✗'}` : '–';
  const before = reference?.figures.find((each) => each.name === f.name);
  console.log(`| ${f.name} | ${goal} | ${shown(f.value, f.unit)} | ${shown(f.baseline, f.unit)} | ${Number.isNaN(f.ratio) ? '–' : f.ratio} | ${f.against} | ${shown(before?.value, f.unit)} |`);
}
const missed = figures.filter((f) => f.goal && !f.goal.met).length;
console.log(`\n${figures.filter((f) => f.goal).length - missed} goals met, ${missed} missed; results in ${out}`);

if (argv.includes('--update-reference')) {
  // The figures of this run replace theirs in the reference; the others stay as they were.
  const names = new Set(figures.map((f) => f.name));
  const kept = (reference?.figures ?? []).filter((f) => !names.has(f.name));
  writeFileSync(REFERENCE, `${JSON.stringify({ ...results, figures: [...kept, ...figures] }, null, 2)}\n`);
  console.log(`bench/reference.json updated with ${figures.length} figures`);
}
process.exit(0);

function machine(): Results['machine'] {
  let ffmpeg = 'not found';
  try {
    ffmpeg = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/ Copyright.*/, '');
  } catch {
    // no ffmpeg on PATH: the figures that need it fail on their own
  }
  return { cpus: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, ffmpeg };
}

function describe(m: Results['machine']): string {
  return `${m.cores} cores (${m.cpus}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.ffmpeg}`;
}
