// `encsup watch` (live progress of every job) and `encsup watch-output` (the folder watcher alone,
// reporting to a daemon elsewhere).
import type { Command } from 'commander';
import { delimiter, resolve } from 'node:path';
import { isFinished } from '../../../machines/job-record.js';
import type { Job, JobStatus } from '../../../machines/job-record.js';
import { type CliContext, UsageError } from '../cli-context.js';
import type { ProgressView } from '../job-progress-view.js';
import type { ApiClient } from '../../api/client.js';
import type { ShownJob } from '../format.js';
import { renderWatch } from '../watch-screen.js';

export function registerWatchCommands(program: Command, ctx: CliContext): void {
  const { io, client } = ctx;
  program
    .command('watch')
    .description('show running and waiting jobs with live progress (plain lines when not a terminal)')
    .option('--json', 'print each change of a job as one JSON line (the whole job), on a terminal too')
    .action(async (options: { json?: boolean }) => {
      const api = client();
      const stop = new AbortController();
      void io.stopSignal().then(() => stop.abort());
      if (options.json) await watchLines(api, jsonLinesView(io.stdout), stop.signal);
      else if (io.terminal) await watchScreen(api, io.terminal, stop.signal);
      else await watchLines(api, (await import('../job-progress-view.js')).createPlainView(io.stdout), stop.signal);
    });

  program
    .command('watch-output')
    .description('watch output folders and report complete files to the daemon (for encodes that run elsewhere)')
    .argument('[dirs...]', 'folders to watch (default: $ENCSUP_WATCH_DIRS)')
    .option('--interval <seconds>', 'poll at this period instead of change events (network filesystems; env VIDEO_PROCESSING_WATCHER_INTERVAL)')
    .option('--stability <seconds>', 'a file is complete once unchanged this long (default 2)')
    .option('--ext <exts>', 'extensions that count as outputs, e.g. ".mp4 .mkv"')
    .option('--json', 'print each report as one JSON line: {at, kind, jobId?, path}')
    .action(async (dirs: string[], options: { interval?: string; stability?: string; ext?: string; json?: boolean }) => {
      const { resolveConfig } = await import('../../config.js');
      const config = resolveConfig(
        {
          watchDirs: dirs.length > 0 ? dirs.map((dir) => resolve(io.cwd, dir)).join(delimiter) : undefined,
          watcherIntervalSec: options.interval,
          watchStabilitySec: options.stability,
          watchExtensions: options.ext,
        },
        io.env,
      );
      if (config.watchDirs.length === 0) throw new UsageError('no folder to watch: name one or more, or set ENCSUP_WATCH_DIRS');
      const api = client();
      await api.settings(); // fails early, with a clear message, when the daemon can't be reached
      // Loaded here: no other command needs the watcher (and chokidar).
      const { OutputWatcher } = await import('../../watch/output-watcher.js');
      const watcher = new OutputWatcher({ folders: config.watchDirs, extensions: config.watchExtensions, stabilitySec: config.watchStabilitySec, pollIntervalSec: config.watcherIntervalSec, sharedFolders: config.sharedWatchDirs });
      watcher.on('event', (event) => {
        if (event.kind !== 'complete') return io.stderr(`${event.at} ${event.kind} ${'folder' in event ? event.folder : event.message}\n`);
        api.reportOutput(event.path).then(
          (routed) => io.stdout(options.json ? `${JSON.stringify(routed)}\n` : `${routed.at} ${routed.kind}${'jobId' in routed ? ` ${routed.jobId}` : ''} ${routed.path}\n`),
          (error: Error) => io.stderr(`encsup: could not report ${event.path}: ${error.message}\n`),
        );
      });
      await watcher.start();
      io.stderr(`watching ${watcher.folders.join(', ')}${config.watcherIntervalSec > 0 ? ` (polling every ${config.watcherIntervalSec} s)` : ''}; reporting to ${api.baseUrl}\n`);
      await io.stopSignal();
      await watcher.close();
    });

}

/** Plain lines, one per change, for a log or a pipe. */
async function watchLines(api: ApiClient, view: ProgressView, signal: AbortSignal): Promise<void> {
  const onOpen = async (remember: (job: Job) => void) => {
    // Only what has not finished: a store of thousands of finished jobs is not read for nothing.
    for (const status of ['encoding', 'finalizing', 'queued'] as const) {
      for (const job of await api.list(status)) {
        remember(job);
        view.show(job);
      }
    }
  };
  await api.events(null, (event) => {
    if (event.type === 'job') view.show(event.job);
  }, signal, onOpen).catch((error: Error) => {
    if (error.name !== 'AbortError') throw error;
  });
  view.stop();
}

// The screen is drawn a few times a second (ETAs count down), and the line read again now and then.
const DRAW_EVERY_MS = 250;
const READ_EVERY_MS = 2000;

/**
 * A terminal of any size: the jobs that fit (running, then waiting, then the recently finished),
 * read a page at a time (so thousands of jobs cost what the screen shows), live between reads from
 * the event stream, redrawn in place by log-update.
 */
async function watchScreen(api: ApiClient, terminal: NodeJS.WriteStream, signal: AbortSignal): Promise<void> {
  const { createLogUpdate } = await import('log-update');
  const draw = createLogUpdate(terminal, { showCursor: false });
  const shown = new Map<string, { job: ShownJob; heardAtMs: number }>();
  let order: string[] = [];
  let counts: Record<JobStatus, number> = { queued: 0, encoding: 0, finalizing: 0, done: 0, failed: 0, cancelled: 0 };
  const read = async () => {
    const page = await api.page({ order: 'view', limit: Math.max(10, (terminal.rows ?? 24) + 20) });
    counts = page.counts;
    order = page.jobs.map((job) => job.id);
    const now = Date.now();
    for (const job of page.jobs) shown.set(job.id, { job, heardAtMs: now });
    for (const id of shown.keys()) if (!order.includes(id)) shown.delete(id);
  };
  const render = () => {
    const now = Date.now();
    const jobs = order.map((id) => shown.get(id)!.job);
    draw(renderWatch(jobs, counts, { columns: terminal.columns ?? 80, rows: terminal.rows ?? 24 }, now, (job) => (now - (shown.get(job.id)?.heardAtMs ?? now)) / 1000));
  };
  await read();
  render();
  const drawing = setInterval(render, DRAW_EVERY_MS);
  const reading = setInterval(() => void read().catch(() => undefined), READ_EVERY_MS);
  try {
    await api.events(null, (event) => {
      if (event.type !== 'job') return;
      const known = shown.get(event.job.id);
      // A streamed job carries no forecast: the page's stays.
      if (known) shown.set(event.job.id, { job: { ...event.job, forecast: known.job.forecast ?? null }, heardAtMs: Date.now() });
    }, signal, async (remember) => order.forEach((id) => remember(shown.get(id)!.job))).catch((error: Error) => {
      if (error.name !== 'AbortError') throw error;
    });
  } finally {
    clearInterval(drawing);
    clearInterval(reading);
    render();
    draw.done();
  }
}

/** One JSON line per change of a job: for scripts (`encsup watch --json | jq`). */
function jsonLinesView(write: (text: string) => void): ProgressView {
  return {
    show: (job) => write(`${JSON.stringify(job)}\n`),
    stop: () => undefined,
  };
}
