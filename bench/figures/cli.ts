// 9. CLI start: `encsup submit` and `encsup list` against a running daemon, wall time per run
// (median of several), against `node -e 0` (Node starting and doing nothing).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BUILT_EXECUTABLE as BIN } from '../../test/helpers/daemon-process.js';
import { startDaemonProcess } from '../daemon-process.js';
import { type Figure, figure, percentile, ratioAtMost } from '../lib.js';

function medianSeconds(args: string[], env: NodeJS.ProcessEnv, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    times.push((performance.now() - start) / 1000);
  }
  return percentile(times, 50);
}

export async function cliStart(quick: boolean, dir: string): Promise<Figure[]> {
  const dataDir = join(dir, 'cli-data');
  const daemon = await startDaemonProcess(dataDir, ['--max-concurrent', '1']);
  const runs = quick ? 5 : 15;
  const env = { ...process.env, ENCSUP_URL: daemon.url, ENCSUP_DATA_DIR: dataDir };
  try {
    const bare = medianSeconds(['-e', '0'], env, runs);
    const submit = medianSeconds([BIN, 'submit', '--', 'true'], env, runs);
    const list = medianSeconds([BIN, 'list'], env, runs);
    const help = medianSeconds([BIN, '--help'], env, runs);
    return [
      figure('`encsup submit -- true`, wall time', submit, 's', bare, '`node -e 0`', ratioAtMost(2, submit, bare)),
      figure('`encsup list`, wall time', list, 's', bare, '`node -e 0`', ratioAtMost(2, list, bare)),
      figure('`encsup --help`, wall time', help, 's', bare, '`node -e 0`', ratioAtMost(2, help, bare)),
    ];
  } finally {
    await daemon.stop();
  }
}
