// The guards of encoder runs in a farm (run-guard.sh), with real processes: a run whose deadline
// passes is ended (TERM, then KILL for one that ignores TERM), a renewed deadline keeps it going,
// a run whose daemon is gone is ended at once, and a released guard leaves its run alone.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RunGuards } from '../src/farm/run-guards.js';
import { RUN_TAG_VARIABLE, taggedProcesses } from '../src/runner/process-tag.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

const inMs = (ms: number) => process.hrtime.bigint() + BigInt(ms) * 1_000_000n;

/** A run: a shell and its child, both carrying the tag; `stubborn` ignores TERM. */
function startRun(tag: string, stubborn = false): ChildProcess {
  const script = stubborn ? "trap '' TERM; sleep 60 & wait" : 'sleep 60 & wait';
  return spawn('/bin/sh', ['-c', script], { env: { PATH: process.env['PATH'], [RUN_TAG_VARIABLE]: tag }, stdio: 'ignore' });
}

const alive = (tag: string) => taggedProcesses((each) => each === tag).length > 0;

test('a run whose deadline passes is ended, TERM then KILL; a renewed one goes on', async () => {
  await withTempDir(async (dir) => {
    const guards = new RunGuards(dir.path, 300);
    const polite = startRun('test/polite/1');
    const stubborn = startRun('test/stubborn/1', true);
    const renewed = startRun('test/renewed/1');
    try {
      await until(() => alive('test/polite/1') && alive('test/stubborn/1') && alive('test/renewed/1'), 'the runs to start');
      guards.start('polite', 'test/polite/1', inMs(500));
      guards.start('stubborn', 'test/stubborn/1', inMs(500));
      guards.start('renewed', 'test/renewed/1', inMs(500));
      const renewing = setInterval(() => guards.extend('renewed', inMs(500)), 100);
      try {
        await until(() => !alive('test/polite/1') && !alive('test/stubborn/1'), 'both runs to be ended', 10_000);
        assert.ok(alive('test/renewed/1'), 'the renewed run goes on');
      } finally {
        clearInterval(renewing);
      }
      await until(() => !alive('test/renewed/1'), 'the renewed run to end once renewals stop', 10_000);
    } finally {
      for (const run of [polite, stubborn, renewed]) run.kill('SIGKILL');
    }
  });
});

/** True while a guard of this run is running. */
function guardRunning(tag: string): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((arg) => arg.endsWith('run-guard.sh')) && argv.includes(tag)) return true;
    } catch {
      // Gone meanwhile.
    }
  }
  return false;
}

test('a run whose daemon is gone is ended at once; a released guard leaves its run alone', async () => {
  await withTempDir(async (dir) => {
    const run = startRun('test/orphan/1');
    const kept = startRun('test/kept/1');
    try {
      await until(() => alive('test/orphan/1') && alive('test/kept/1'), 'the runs to start');
      // A daemon of its own to lose, with a deadline ten minutes away: the guard watches the daemon that started it.
      const module = JSON.stringify(new URL('../src/farm/run-guards.ts', import.meta.url).href);
      const daemon = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', `const { RunGuards } = await import(${module}); new RunGuards(${JSON.stringify(dir.path)}, 300).start('orphan', 'test/orphan/1', process.hrtime.bigint() + 600_000_000_000n); setInterval(() => {}, 1000);`], { stdio: 'ignore' });
      await until(() => guardRunning('test/orphan/1'), 'the guard to start', 10_000);
      daemon.kill('SIGKILL');
      await until(() => !alive('test/orphan/1'), 'the orphaned run to be ended', 10_000);

      const guards = new RunGuards(dir.path, 300);
      guards.start('kept', 'test/kept/1', inMs(1000)).release();
      await until(() => !guardRunning('test/kept/1'), 'the released guard to leave', 10_000);
      assert.ok(alive('test/kept/1'), 'the released run goes on');
    } finally {
      run.kill('SIGKILL');
      kept.kill('SIGKILL');
    }
  });
});

test.run();
