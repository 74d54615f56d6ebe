// The `encsup` command. runCli takes its arguments and streams as parameters and returns the exit
// code; only bin.ts touches process.argv, signals and process.exit.
import { createReadStream } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { OutputWatcher, WatchFolderError } from '../watch/output-watcher.js';
import { Command, CommanderError, Option } from 'commander';
import { type Job, PARSER_NAMES, type ParserName, isFinished } from '../../machines/job-record.js';
import { followEvents } from '../api/event-client.js';
import { createBarView, createPlainView } from './job-progress-view.js';
import { parseLog } from '../progress/parse-log.js';
import { compilePattern } from '../progress/parsers/pattern.js';
import { ApiClient, ClientError, daemonUrl } from '../api/client.js';
import { ConfigError, resolveConfig } from '../config.js';
import { startDaemon } from '../daemon.js';
import { createDefaultDeps } from '../deps.js';
import { formatJob, formatJobTable } from './format.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The terminal, when the output is one: live bars instead of lines. */
  terminal?: NodeJS.WriteStream;
  /** The standard input, for commands that read a log from it. */
  stdin: () => AsyncIterable<Buffer | string>;
  /** Resolves with the signal's name when the daemon should stop (SIGTERM, SIGINT). */
  stopSignal: () => Promise<string>;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('encsup')
    .description('Supervisor daemon for long-running video encoding and render jobs')
    .option('--url <url>', 'the daemon to talk to (default: $ENCSUP_URL or http://127.0.0.1:8787)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  const client = () => new ApiClient(daemonUrl(program.opts<{ url?: string }>().url, io.env), io.env['ENCSUP_TOKEN'] || null);

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

  program
    .command('submit')
    .description('queue a job: encsup submit [options] -- ffmpeg -i in.mp4 out.mkv')
    .argument('[command...]', 'the program and its arguments (after --); none for --external')
    .option('--name <name>', 'a name to show instead of the command')
    .option('--priority <priority>', 'a whole number, or high (10), normal (0), low (-10)')
    .option('--output <path>', 'the file the job writes; checked when the encoder exits')
    .option('--total-frames <n>', 'frames the job will encode, for an exact percentage')
    .option('--cwd <dir>', 'folder to run in (default: this folder)')
    .option('--env <KEY=VALUE...>', 'environment variables for the encoder')
    .option('--shell', 'run the command through /bin/sh -c')
    .addOption(new Option('--parser <name>', 'how to read its progress (default auto)').choices([...PARSER_NAMES]))
    .option('--pattern <regex>', 'your own progress pattern: named groups current/total or percent')
    .option('--timeout <seconds>', 'limit for the whole encode, 0 = none')
    .option('--stall-timeout <seconds>', 'no new output or progress this long = stalled, 0 = never')
    .option('--max-attempts <n>', 'attempts before the job fails for good')
    .option('--external', 'the encode runs elsewhere: wait for --output to appear complete in a watched folder')
    .option('--no-validate', 'do not check the output with ffprobe (outputs that are not media)')
    .option('--expected-duration <seconds>', 'seconds the output should last, for validation')
    .option('--json', 'print the whole job as JSON')
    .option('--wait', 'follow the job to its end, showing its progress; exit 0 when done, 1 otherwise')
    .action(async (command: string[], options: Record<string, unknown>) => {
      const body: Record<string, unknown> = { cwd: (options['cwd'] as string | undefined) ?? io.cwd };
      if (command.length > 0) body['command'] = command;
      if (options['external']) body['external'] = true;
      if (options['timeout'] !== undefined) body['timeoutSec'] = numberOrText(options['timeout'] as string);
      if (options['stallTimeout'] !== undefined) body['stallTimeoutSec'] = numberOrText(options['stallTimeout'] as string);
      if (options['maxAttempts'] !== undefined) body['maxAttempts'] = numberOrText(options['maxAttempts'] as string);
      if (options['validate'] === false) body['validate'] = false;
      if (options['expectedDuration'] !== undefined) body['expectedDurationSeconds'] = numberOrText(options['expectedDuration'] as string);
      if (options['name'] !== undefined) body['name'] = options['name'];
      if (options['priority'] !== undefined) body['priority'] = numberOrText(options['priority'] as string);
      if (options['output'] !== undefined) body['output'] = resolve(io.cwd, options['output'] as string);
      if (options['totalFrames'] !== undefined) body['totalFrames'] = numberOrText(options['totalFrames'] as string);
      if (options['shell']) body['shell'] = true;
      if (options['parser'] !== undefined) body['parser'] = options['parser'];
      if (options['pattern'] !== undefined) body['pattern'] = options['pattern'];
      if (options['env'] !== undefined) body['env'] = parseEnvPairs(options['env'] as string[]);
      const api = client();
      const job = await api.submit(body);
      io.stdout(options['json'] ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
      if (!options['wait']) return;
      const ended = await followToEnd(api, job.id, io);
      io.stderr(`${ended.id} ${ended.status}${ended.error ? `: ${ended.error}` : ''}\n`);
      if (ended.status !== 'done') exitCode = 1;
    });

  program
    .command('watch')
    .description('show running and waiting jobs with live progress (plain lines when not a terminal)')
    .action(async () => {
      const api = client();
      const view = io.terminal ? createBarView(io.terminal) : createPlainView(io.stdout);
      for (const job of await api.list()) if (!isFinished(job.status)) view.show(job);
      const stop = new AbortController();
      void io.stopSignal().then(() => stop.abort());
      await followEvents(api, null, (event) => {
        if (event.type === 'job') view.show(event.job);
      }, stop.signal).catch((error: Error) => {
        if (error.name !== 'AbortError') throw error;
      });
      view.stop();
    });

  program
    .command('list')
    .description('list jobs, oldest first')
    .addOption(new Option('--status <status>', 'only jobs in this state').choices(['queued', 'encoding', 'finalizing', 'done', 'failed', 'cancelled']))
    .option('--json', 'print JSON')
    .action(async (options: { status?: string; json?: boolean }) => {
      const jobs = await client().list(options.status);
      io.stdout(options.json ? `${JSON.stringify(jobs, null, 2)}\n` : formatJobTable(jobs));
    });

  program
    .command('show')
    .description('show one job')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const job = await client().get(id);
      io.stdout(options.json ? `${JSON.stringify(job, null, 2)}\n` : formatJob(job));
    });

  program
    .command('cancel')
    .description('cancel a queued or running job (its encoder is ended)')
    .argument('<id>')
    .action(async (id: string) => {
      const job = await client().cancel(id);
      io.stdout(`${job.id} ${job.status}\n`);
    });

  program
    .command('retry')
    .description('queue a failed or cancelled job again')
    .argument('<id>')
    .action(async (id: string) => {
      const job = await client().retry(id);
      io.stdout(`${job.id} ${job.status}\n`);
    });

  program
    .command('logs')
    .description("print a job's encoder output")
    .argument('<id>')
    .action(async (id: string) => io.stdout(await client().log(id)));

  program
    .command('config')
    .description('show the running daemon\'s settings, or change them without a restart')
    .option('--max-concurrent <n>', 'encodes at once, 0 = no cap')
    .option('--progress-threshold <percent>', 'store progress when it moved this much')
    .action(async (options: { maxConcurrent?: string; progressThreshold?: string }) => {
      const patch: Record<string, unknown> = {};
      if (options.maxConcurrent !== undefined) patch['maxConcurrent'] = numberOrText(options.maxConcurrent);
      if (options.progressThreshold !== undefined) patch['progressThreshold'] = numberOrText(options.progressThreshold);
      const api = client();
      const settings = Object.keys(patch).length > 0 ? await api.updateSettings(patch) : await api.settings();
      io.stdout(`${JSON.stringify(settings, null, 2)}\n`);
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

  program
    .command('parse')
    .description('read a raw encoder log (or - for stdin) and print one JSON line per progress update')
    .argument('[file]', 'the log; - or nothing reads standard input', '-')
    .addOption(new Option('--parser <name>', 'the output format').choices([...PARSER_NAMES]).default('auto'))
    .option('--pattern <regex>', 'your own regular expression with named groups current/total or percent')
    .option('--total-frames <n>', 'frames the run encodes')
    .option('--duration <seconds>', 'seconds of media the run encodes')
    .action(async (file: string, options: { parser: ParserName; pattern?: string; totalFrames?: string; duration?: string }) => {
      const totalFrames = optionalNumber('--total-frames', options.totalFrames);
      const durationSeconds = optionalNumber('--duration', options.duration);
      if (options.pattern) {
        try {
          compilePattern(options.pattern);
        } catch (error) {
          throw new UsageError(`--pattern: ${(error as Error).message}`);
        }
      }
      const parser = options.pattern && options.parser === 'auto' ? 'pattern' : options.parser;
      const input = file === '-' ? io.stdin() : createReadStream(file);
      await new Promise<void>((resolve, reject) => {
        parseLog(input, { parser, pattern: options.pattern ?? null, totalFrames, durationSeconds }).subscribe({
          next: (update) => io.stdout(`${JSON.stringify(update)}\n`),
          error: (error: NodeJS.ErrnoException) =>
            reject(error.code === 'ENOENT' ? new UsageError(`cannot read ${file}: no such file`) : error),
          complete: resolve,
        });
      });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    exitCode = reportError(error, io);
  }
  return exitCode;
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (and help, where asked for).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof ClientError || error instanceof ConfigError || error instanceof UsageError || error instanceof WatchFolderError) {
    io.stderr(`encsup: ${error.message}\n`);
    return error instanceof ClientError && error.status === 404 ? 3 : 1;
  }
  io.stderr(`encsup: ${(error as Error).message ?? String(error)}\n`);
  return 1;
}

class UsageError extends Error {}

/** Follows one job over the event stream until it ends; the job as it ended. */
async function followToEnd(api: ApiClient, id: string, io: CliIo): Promise<Job> {
  const view = io.terminal ? createBarView(io.terminal) : createPlainView(io.stderr);
  const stop = new AbortController();
  let ended: Job | null = null;
  const seen = (job: Job) => {
    view.show(job);
    if (isFinished(job.status)) ended = job;
    return ended !== null;
  };
  await followEvents(api, id, (event) => (event.type === 'job' ? seen(event.job) : undefined), stop.signal, async () => seen(await api.get(id)));
  stop.abort();
  view.stop();
  return ended ?? (await api.get(id));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function optionalNumber(flag: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} ${text}: expected a number above 0`);
  return value;
}

function numberOrText(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

function parseEnvPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--env ${pair}: expected KEY=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
