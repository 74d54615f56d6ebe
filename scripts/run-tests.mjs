#!/usr/bin/env node
// Runs the uvu suites (TypeScript through tsx) and ends with the line CI reads: "N passed, N failed".
// Pass a pattern to run some files only: npm test -- job-queue
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';

const pattern = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : '\\.test\\.ts$';
const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});
child.on('close', (code) => {
  const text = stripVTControlCharacters(output);
  const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped');
  if (Number.isNaN(total)) {
    // The runner died before its summary: count it as one failure so CI can't read it as green.
    console.log(`\n0 passed, 1 failed`);
    process.exit(code || 1);
  }
  const failed = total - passed - skipped;
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 ? 1 : code ?? 1);
});
