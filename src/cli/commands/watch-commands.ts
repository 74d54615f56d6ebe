// `encsup watch` (live progress of every job) and `encsup watch-output` (the folder watcher alone,
// reporting to a daemon elsewhere).
import type { Command } from 'commander';
import { delimiter, resolve } from 'node:path';
import { isFinished } from '../../../machines/job-record.js';
import { followEvents } from '../../api/event-client.js';
import type { Job } from '../../../machines/job-record.js';
import { resolveConfig } from '../../config.js';
import { OutputWatcher } from '../../watch/output-watcher.js';
import { type CliContext, UsageError } from '../cli-context.js';
import { createBarView, createPlainView } from '../job-progress-view.js';

export function registerWatchCommands(program: Command, ctx: CliContext): void {
  const { io, client } = ctx;
  program
    .command('watch')
    .description('show running and waiting jobs with live progress (plain lines when not a terminal)')
    .action(async () => {
      const api = client();
      const view = io.terminal ? createBarView(io.terminal) : createPlainView(io.stdout);
      const stop = new AbortController();
      void io.stopSignal().then(() => stop.abort());
      const onOpen = async (remember: (job: Job) => void) => {
        for (const job of await api.list()) {
          remember(job);
          if (!isFinished(job.status)) view.show(job);
        }
      };
      await followEvents(api, null, (event) => {
        if (event.type === 'job') view.show(event.job);
      }, stop.signal, onOpen).catch((error: Error) => {
        if (error.name !== 'AbortError') throw error;
      });
      view.stop();
    });


  program
    .command('watch-output')
    .description('watch output folders and report complete files to the daemon (for encodes that run elsewhere)')
    .argument('[dirs...]', 'folders to watch (default: $ENCSUP_WATCH_DIRS)')
    .option('--interval <seconds>', 'poll at this period instead of change events (network filesystems; env VIDEO_PROCESSING_WATCHER_INTERVAL)')
    .option('--stability <seconds>', 'a file is complete once unchanged this long (default 2)')
    .option('--ext <exts>', 'extensions that count as outputs, e.g. ".mp4 .mkv"')
    .action(async (dirs: string[], options: { interval?: string; stability?: string; ext?: string }) => {
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
      const watcher = new OutputWatcher({ folders: config.watchDirs, extensions: config.watchExtensions, stabilitySec: config.watchStabilitySec, pollIntervalSec: config.watcherIntervalSec });
      watcher.on('event', (event) => {
        if (event.kind !== 'complete') return io.stderr(`${event.at} ${event.kind} ${'folder' in event ? event.folder : event.message}\n`);
        api.reportOutput(event.path).then(
          (routed) => io.stdout(`${routed.at} ${routed.kind}${'jobId' in routed ? ` ${routed.jobId}` : ''} ${routed.path}\n`),
          (error: Error) => io.stderr(`encsup: could not report ${event.path}: ${error.message}\n`),
        );
      });
      await watcher.start();
      io.stderr(`watching ${watcher.folders.join(', ')}${config.watcherIntervalSec > 0 ? ` (polling every ${config.watcherIntervalSec} s)` : ''}; reporting to ${api.baseUrl}\n`);
      await io.stopSignal();
      await watcher.close();
    });

}
