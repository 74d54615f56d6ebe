// The guard of one encoder run in a farm: a small process of its own, outside the daemon, that
// ends the run's processes (found by their run tag) once the run's deadline passes. The daemon
// moves the deadline on each time it renews the job's lease; a daemon that is frozen, cut off from
// the database or gone cannot, so its encoders end before the lease can run out and another host
// starts the job. Deadlines are CLOCK_MONOTONIC nanoseconds (process.hrtime), the same clock in
// every process of the machine, so no wall-clock step moves them.
//   argv: <run tag> <deadline ns> <grace ms>
//   stdin: "extend <ns>" lines; "release" when the run ended by itself. End of input without
//   "release" means the daemon is gone: the run is ended at once.
import { createInterface } from 'node:readline';
import { endTagged } from '../runner/process-tag.js';

const [tag, deadlineText, graceText] = process.argv.slice(2);
if (!tag || !deadlineText || !graceText) {
  process.stderr.write('usage: guard-process <run tag> <deadline ns> <grace ms>\n');
  process.exit(2);
}
let deadline = BigInt(deadlineText);
const graceMs = Number(graceText);
let ending = false;

async function endRun(): Promise<void> {
  if (ending) return;
  ending = true;
  await endTagged((each) => each === tag, graceMs);
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [word, value] = line.trim().split(' ');
  if (word === 'release') process.exit(0);
  if (word === 'extend' && value !== undefined && /^\d+$/.test(value)) deadline = BigInt(value);
});
lines.on('close', () => void endRun());
// Checked often enough that the margin before the lease's end (2 s) is never eaten by the check.
setInterval(() => {
  if (process.hrtime.bigint() >= deadline) void endRun();
}, 100);
