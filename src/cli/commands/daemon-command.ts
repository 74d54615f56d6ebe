// `encsup daemon`: the daemon in the foreground, until SIGTERM or SIGINT.
import type { Command } from 'commander';
import { delimiter } from 'node:path';
import { resolveConfig } from '../../config.js';
import { startDaemon } from '../../daemon.js';
import { createDefaultDeps } from '../../deps.js';
import { type CliContext, collect } from '../cli-context.js';

export function registerDaemonCommand(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('daemon')
    .description('run the supervisor daemon in the foreground (the only process that opens the store)')
    .option('--data-dir <dir>', 'folder for the job store and logs (env ENCSUP_DATA_DIR, default ./.encsup)')
    .option('--host <host>', 'address to listen on (env ENCSUP_HOST, default 127.0.0.1)')
    .option('--port <port>', 'API port (env ENCSUP_PORT, default 8787)')
    .option('--max-concurrent <n>', 'encodes at once, 0 = no cap (env ENCSUP_MAX_CONCURRENT, default 2)')
    .option('--progress-threshold <percent>', 'store progress when it moved this much (default 1.0)')
    .option('--kill-grace <seconds>', 'seconds between SIGTERM and SIGKILL when ending an encoder (default 10)')
    .option('--timeout <seconds>', 'default limit for a whole encode, 0 = none (env ENCSUP_TIMEOUT_SEC, default 7200)')
    .option('--stall-timeout <seconds>', 'default: no new output or progress this long = stalled (env ENCSUP_STALL_TIMEOUT_SEC, default 300)')
    .option('--max-attempts <n>', 'default attempts before a job fails for good (env ENCSUP_MAX_ATTEMPTS, default 3)')
    .option('--retry-backoff <seconds>', 'first retry after this long, doubling after (env ENCSUP_RETRY_BACKOFF_SEC, default 5)')
    .option('--drain <seconds>', 'on SIGTERM, let running jobs finish for up to this long before requeuing (env ENCSUP_DRAIN_SEC)')
    .option('--watch <dir>', 'watch this output folder (repeatable; env ENCSUP_WATCH_DIRS)', collect, [])
    .option('--output-dir <dir>', 'the output folder VIDEO_PROCESSING_FILE_WATCHER watches (env ENCSUP_OUTPUT_DIR)')
    .option('--watch-ext <exts>', 'extensions that count as outputs, e.g. ".mp4 .mkv" (env ENCSUP_WATCH_EXTENSIONS)')
    .option('--watch-stability <seconds>', 'a file is complete once unchanged this long (default 2)')
    .option('--watcher-interval <seconds>', 'poll folders at this period instead of change events (network filesystems)')
    .action(async (options: Record<string, string | string[] | undefined>) => {
      const watch = options['watch'] as string[];
      const config = resolveConfig(
        {
          dataDir: options['dataDir'] as string | undefined,
          host: options['host'] as string | undefined,
          port: options['port'] as string | undefined,
          maxConcurrent: options['maxConcurrent'] as string | undefined,
          progressThreshold: options['progressThreshold'] as string | undefined,
          killGraceSec: options['killGrace'] as string | undefined,
          timeoutSec: options['timeout'] as string | undefined,
          stallTimeoutSec: options['stallTimeout'] as string | undefined,
          maxAttempts: options['maxAttempts'] as string | undefined,
          retryBackoffSec: options['retryBackoff'] as string | undefined,
          drainSec: options['drain'] as string | undefined,
          watchDirs: watch.length > 0 ? watch.join(delimiter) : undefined,
          outputDir: options['outputDir'] as string | undefined,
          watchExtensions: options['watchExt'] as string | undefined,
          watchStabilitySec: options['watchStability'] as string | undefined,
          watcherIntervalSec: options['watcherInterval'] as string | undefined,
        },
        io.env,
      );
      const daemon = await startDaemon(config, createDefaultDeps());
      io.stderr(`encsup daemon listening on ${daemon.url} (data in ${config.dataDir})\n`);
      const signal = await io.stopSignal();
      io.stderr(`${signal}: stopping encoders and saving every job...\n`);
      await daemon.close();
    });

}
