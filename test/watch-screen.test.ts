// `encsup watch` on a terminal of any size: counts, running jobs first, then waiting ones, as many
// as fit, lines never wider than the screen. Pure rendering, then the real CLI under tmux at 80x24.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderWatch } from '../src/cli/watch-screen.js';
import { withTestDaemon } from './helpers/daemon.js';
import { aJob } from './helpers/jobs.js';
import { until } from './helpers/wait.js';

const now = Date.parse('2026-01-01T01:00:00Z');
const counts = { queued: 198, encoding: 2, finalizing: 0, done: 1, failed: 1, cancelled: 0 };

test('200 jobs on 80x24: the counts line, both running jobs first, waiting ones as they fit, a line for the rest', () => {
  const running = [0, 1].map((n) => aJob(`run${n}xxxxxxxx`, { status: 'encoding', progress: 40 + n, etaSeconds: 90, fps: 31, name: `a rather long job name that will not fit on a narrow terminal ${n}` }));
  const waiting = Array.from({ length: 198 }, (_, n) => aJob(`wait${String(n).padStart(8, '0')}`, { name: `waiting ${n}` }));
  const oldDone = aJob('olddone00000', { status: 'done', finishedAt: new Date(now - 10 * 60_000).toISOString() });
  const screen = renderWatch([...running, ...waiting, oldDone], counts, { columns: 80, rows: 24 }, now).split('\n');
  assert.ok(screen.length <= 23, `${screen.length} lines`);
  assert.ok(screen.every((line) => line.length <= 80), 'nothing wraps');
  assert.is(screen[0], 'running 2 · waiting 198 · done 1 · failed 1 · cancelled 0');
  assert.match(screen[1]!, /^run0xxxx encoding\s+\[#+\.+\]\s+40% ETA 1m30s/);
  assert.match(screen[2]!, /^run1xxxx encoding/);
  assert.match(screen[3]!, /^wait0000 queued/);
  assert.match(screen.at(-1)!, /^… \d+ more/);
  assert.not.ok(screen.some((line) => line.startsWith('olddone')), 'a job that finished long ago has faded out');
  const narrow = renderWatch(running, counts, { columns: 40, rows: 10 }, now).split('\n');
  assert.ok(narrow.every((line) => line.length <= 40));
  const counting = renderWatch(running.slice(0, 1), counts, { columns: 100, rows: 10 }, now, () => 30).split('\n');
  assert.match(counting[1]!, 'ETA 1m00s', 'the ETA runs down between reports');
});

test('encsup watch under tmux at 80x24 with 200 jobs: the counts line and the running jobs on screen', async () => {
  await withTestDaemon({ maxConcurrent: 2 }, async ({ api, dir, url }) => {
    const ids: string[] = [];
    for (let n = 0; n < 200; n++) ids.push((await api.submit({ command: ['sleep', '60'], name: `sleeper ${n}` })).id);
    await until(async () => (await api.list('encoding')).length === 2, 'two jobs running');
    const session = `encsup-watch-${process.pid}`;
    const command = `${process.execPath} --import tsx src/cli/bin.ts --url ${url} --data-dir ${dir.path} watch`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '80', '-y', '24', command]);
    try {
      const pane = await until(() => {
        const text = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
        return text.includes('running 2 · waiting 198') ? text : null;
      }, 'the watch screen');
      const lines = pane.split('\n').filter(Boolean);
      assert.ok(lines.length <= 24);
      for (const id of ids.slice(0, 2)) assert.ok(pane.includes(id.slice(0, 8)), `running ${id} is on screen`);
      assert.match(pane, /… \d+ more/);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
    await api.updateSettings({ paused: true });
  });
});

test.run();
