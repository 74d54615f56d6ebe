// The commands about jobs: submit (and --wait), list, show, cancel, retry, logs, config.
import { type Command, Option } from 'commander';
import { resolve } from 'node:path';
import { JOB_STATUSES, type Job, type JobStatus, PARSER_NAMES, isFinished } from '../../../machines/job-record.js';
import type { ApiClient } from '../../api/client.js';
import { type CliContext, type CliIo, inFlagTerms, numberOrText, parseEnvPairs, UsageError } from '../cli-context.js';
import { formatJob, formatJobTable } from '../format.js';
import { LIST_ORDERS, type ListOrder } from '../../jobs/job-listing.js';

// The submission fields that submit's flags fill, by the flag: an error about a field names the flag.
const SUBMIT_FLAGS: Record<string, string> = {
  on: '--on',
  name: '--name',
  priority: '--priority',
  output: '--output',
  totalFrames: '--total-frames',
  passes: '--passes',
  cwd: '--cwd',
  env: '--env',
  shell: '--shell',
  parser: '--parser',
  pattern: '--pattern',
  terminal: '--terminal',
  timeoutSec: '--timeout',
  stallTimeoutSec: '--stall-timeout',
  maxAttempts: '--max-attempts',
  external: '--external',
  expectedDurationSeconds: '--expected-duration',
  command: 'the command (after --)',
  needs: '--needs',
};

/** Read with the schema the daemon uses, loaded only when the flag is given. */
async function resourceFlag(flag: string, text: string): Promise<Record<string, number>> {
  const { parseResourceList } = await import('../../resources/resource-spec.js');
  try {
    return parseResourceList(text, flag);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function registerJobCommands(program: Command, ctx: CliContext): void {
  const { io, client } = ctx;
  program
    .command('submit')
    .description('queue a job: encsup submit [options] -- ffmpeg -i in.mp4 out.mkv')
    .argument('[command...]', 'the program and its arguments (after --); none for --external')
    .option('--name <name>', 'a name to show instead of the command')
    .option('--priority <priority>', 'a whole number, or high (10), normal (0), low (-10)')
    .option('--output <path>', 'the file the job writes; checked when the encoder exits')
    .option('--total-frames <n>', 'frames the job will encode, for an exact percentage')
    .option('--passes <n>', 'encoder passes the job makes, where its command does not show them (a wrapper script)')
    .option('--needs <resources>', 'what it takes while it runs, e.g. gpu=1,nvenc=1 (default cpu=1)')
    .option('--on <host-or-label>', 'in a farm: run only on this host, or on the hosts with this label')
    .option('--cwd <dir>', 'folder to run in (default: this folder)')
    .option('--env <KEY=VALUE...>', 'environment variables for the encoder')
    .option('--shell', 'run the command through /bin/sh -c: one argument is the shell line; several are quoted and joined')
    .addOption(new Option('--parser <name>', 'how to read its progress (default auto)').choices([...PARSER_NAMES]))
    .option('--pattern <regex>', 'your own progress pattern: named groups current/total or percent')
    .addOption(new Option('--terminal <how>', 'run it in a terminal (pty) or on plain pipes; auto (default): a terminal for known encoders and render scripts').choices(['auto', 'pty', 'pipes']))
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
      // With --shell one argument is the shell line as typed; several are quoted one by one, so
      // `--shell -- echo 'a b'` runs `echo 'a b'`, not `echo a b`.
      if (command.length > 0) body['command'] = options['shell'] ? shellLine(command) : command;
      if (options['external']) body['external'] = true;
      if (options['timeout'] !== undefined) body['timeoutSec'] = numberOrText(options['timeout'] as string);
      if (options['stallTimeout'] !== undefined) body['stallTimeoutSec'] = numberOrText(options['stallTimeout'] as string);
      if (options['maxAttempts'] !== undefined) body['maxAttempts'] = numberOrText(options['maxAttempts'] as string);
      if (options['validate'] === false) body['validate'] = false;
      if (options['expectedDuration'] !== undefined) body['expectedDurationSeconds'] = numberOrText(options['expectedDuration'] as string);
      if (options['name'] !== undefined) body['name'] = options['name'];
      if (options['priority'] !== undefined) body['priority'] = numberOrText(options['priority'] as string);
      if (options['output'] !== undefined) body['output'] = resolve(io.cwd, options['output'] as string);
      if (options['passes'] !== undefined) body['passes'] = numberOrText(options['passes'] as string);
      if (options['totalFrames'] !== undefined) body['totalFrames'] = numberOrText(options['totalFrames'] as string);
      if (options['shell']) body['shell'] = true;
      if (options['parser'] !== undefined) body['parser'] = options['parser'];
      if (options['pattern'] !== undefined) body['pattern'] = options['pattern'];
      if (options['terminal'] !== undefined) body['terminal'] = options['terminal'];
      if (options['env'] !== undefined) body['env'] = parseEnvPairs(options['env'] as string[]);
      if (options['needs'] !== undefined) body['needs'] = await resourceFlag('--needs', options['needs'] as string);
      if (options['on'] !== undefined) body['on'] = options['on'];
      const api = client();
      const job = await inFlagTerms(api.submit(body), SUBMIT_FLAGS);
      io.stdout(options['json'] ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
      if (!options['wait']) return;
      const ended = await followToEnd(api, job.id, io);
      io.stderr(`${ended.id} ${ended.status}${ended.error ? `: ${ended.error}` : ''}\n`);
      if (ended.status !== 'done') ctx.setExitCode(1);
    });


  program
    .command('list')
    .description('list jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs in this state').choices([...JOB_STATUSES]))
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--since <when>', 'only jobs submitted since then: 30m, 2h, 7d, or an ISO time')
    .option('--search <text>', 'only jobs whose name, command or output holds this, or whose id starts with it')
    .addOption(new Option('--order <order>', 'newest or oldest first, or as the dashboard shows them (running, waiting, finished)').choices([...LIST_ORDERS]).default('newest'))
    .option('--json', 'print JSON')
    .action(async (options: { status?: JobStatus; limit: string; since?: string; search?: string; order: ListOrder; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) throw new UsageError(`--limit ${options.limit}: expected a whole number from 1 to 1000`);
      const since = options.since === undefined ? undefined : sinceTime(options.since, Date.now());
      const page = await client().page({ limit, order: options.order, ...(options.status ? { status: options.status } : {}), ...(options.search ? { q: options.search } : {}), ...(since ? { since } : {}) });
      if (options.json) return io.stdout(`${JSON.stringify(page.jobs, null, 2)}\n`);
      io.stdout(formatJobTable(page.jobs));
      if (page.matched > page.jobs.length) io.stdout(`(${page.jobs.length} of ${page.matched} shown; --limit for more)\n`);
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

  const transitions = [
    ['cancel', 'cancel a job in any state before it ends: waiting, running, retrying after its backoff, an external one (exits 1 unless it ended cancelled)', (id: string) => client().cancel(id)],
    ['retry', 'queue a failed or cancelled job again', (id: string) => client().retry(id)],
  ] as const;
  for (const [name, description, request] of transitions) {
    program
      .command(name)
      .description(description)
      .argument('<id>')
      .option('--json', 'print the job as JSON')
      .action(async (id: string, options: { json?: boolean }) => {
        const job = await request(id);
        io.stdout(options.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id} ${job.status}\n`);
        // A cancel that did not end the job (its encoder is still ending) says so, and fails.
        if (name === 'cancel' && job.status !== 'cancelled') {
          io.stderr(`encsup: job ${job.id} is ${job.status}, not cancelled yet; see encsup show ${job.id}\n`);
          ctx.setExitCode(1);
        }
      });
  }

  program
    .command('logs')
    .description("print a job's encoder output")
    .argument('<id>')
    .option('-f, --follow', 'keep printing what the encoder prints until the job ends (Ctrl-C to stop)')
    .option('--tail <lines>', 'only the last lines')
    .option('--json', 'print JSON: {jobId, offset, text} for each piece read (one line each with --follow)')
    .action(async (id: string, options: { follow?: boolean; tail?: string; json?: boolean }) => {
      const api = client();
      const tail = options.tail === undefined ? undefined : Number(options.tail);
      if (tail !== undefined && !(Number.isInteger(tail) && tail >= 1 && tail <= 10_000)) throw new UsageError(`--tail ${options.tail}: expected a whole number of lines from 1 to 10000`);
      const jobId = options.json ? (await api.get(id)).id : id;
      const print = (offset: number, text: string) => io.stdout(options.json ? `${JSON.stringify({ jobId, offset, text })}\n` : text);
      if (!options.follow) return print(0, await api.log(jobId, tail === undefined ? {} : { tail }));
      let offset = 0;
      const stop = io.stopSignal();
      let stopped = false;
      void stop.then(() => (stopped = true));
      for (;;) {
        const job = await api.get(id);
        const chunk = await api.logFrom(job.id, offset);
        // A log cut at its size cap is sent from its start again (the server knows).
        if (chunk.text !== '' || !options.json) print(offset, chunk.text);
        offset = chunk.next;
        if (stopped || isFinished(job.status)) return;
        await Promise.race([stop, new Promise((resolve) => setTimeout(resolve, 500))]);
      }
    });

  program
    .command('settings')
    .alias('config')
    .description('show the running daemon\'s runtime settings, or change them without a restart')
    .option('--max-concurrent <n>', 'encodes at once, 0 = no cap')
    .option('--progress-threshold <percent>', 'store progress when it moved this much')
    .option('--resources <spec>', "the box's capacity from now on, e.g. cpu=4,gpu=2,nvenc=3 (running jobs keep theirs)")
    .option('--json', 'print JSON (what it prints anyway: the settings are a JSON object)')
    .action(async (options: { maxConcurrent?: string; progressThreshold?: string; resources?: string; json?: boolean }) => {
      const patch: Record<string, unknown> = {};
      if (options.resources !== undefined) patch['resources'] = await resourceFlag('--resources', options.resources);
      if (options.maxConcurrent !== undefined) patch['maxConcurrent'] = numberOrText(options.maxConcurrent);
      if (options.progressThreshold !== undefined) patch['progressThreshold'] = numberOrText(options.progressThreshold);
      const api = client();
      const settings = Object.keys(patch).length > 0 ? await inFlagTerms(api.updateSettings(patch), { maxConcurrent: '--max-concurrent', progressThreshold: '--progress-threshold', resources: '--resources' }) : await api.settings();
      io.stdout(`${JSON.stringify(settings, null, 2)}\n`);
    });

  program
    .command('clean')
    .description('remove finished jobs (and their logs) that ended longer ago than an age')
    .requiredOption('--older-than <age>', 'e.g. 30d, 12h, 90m (0 removes every finished job)')
    .addOption(new Option('--status <statuses...>', 'only these: done, failed, cancelled').choices(['done', 'failed', 'cancelled']))
    .option('--json', 'print JSON')
    .action(async (options: { olderThan: string; status?: string[]; json?: boolean }) => {
      const result = await inFlagTerms(client().clean({ olderThan: options.olderThan, ...(options.status ? { status: options.status } : {}) }), { olderThan: '--older-than', status: '--status' });
      io.stdout(options.json ? `${JSON.stringify(result)}\n` : `removed ${result.removed} finished job${result.removed === 1 ? '' : 's'}\n`);
    });

  program
    .command('retry-failed')
    .description('queue every failed job again (those matching --search / --since, where given)')
    .option('--search <text>', 'only jobs whose name, command or output holds this, or whose id starts with it')
    .option('--since <when>', 'only jobs submitted since then: 30m, 2h, 7d, or an ISO time')
    .option('--json', 'print JSON')
    .action(async (options: { search?: string; since?: string; json?: boolean }) => {
      const result = await client().retryFailed({ ...(options.search ? { q: options.search } : {}), ...(options.since ? { since: sinceTime(options.since, Date.now()) } : {}) });
      io.stdout(options.json ? `${JSON.stringify(result)}\n` : `queued again: ${result.retried.length}${result.retried.length ? ` (${result.retried.join(' ')})` : ''}\n`);
    });

  for (const [name, paused, description] of [
    ['pause', true, 'pause the waiting line: running jobs go on, nothing new starts'],
    ['resume', false, 'resume the waiting line'],
  ] as const) {
    program
      .command(name)
      .description(description)
      .option('--json', 'print the settings as JSON')
      .action(async (options: { json?: boolean }) => {
        const settings = await client().updateSettings({ paused });
        io.stdout(options.json ? `${JSON.stringify(settings, null, 2)}\n` : `queue ${settings.paused ? 'paused' : 'running'} (at most ${settings.maxConcurrent || 'any number of'} jobs at once)\n`);
      });
  }
}

/** Follows one job over the event stream until it ends; the job as it ended. */
async function followToEnd(api: ApiClient, id: string, io: CliIo): Promise<Job> {
  const { createBarView, createPlainView } = await import('../job-progress-view.js');
  const view = io.terminal ? createBarView(io.terminal) : createPlainView(io.stderr);
  const stop = new AbortController();
  let ended: Job | null = null;
  const seen = (job: Job) => {
    view.show(job);
    if (isFinished(job.status)) ended = job;
    return ended !== null;
  };
  const onOpen = async (remember: (job: Job) => void) => {
    const job = await api.get(id);
    remember(job);
    return seen(job);
  };
  await api.events(id, (event) => (event.type === 'job' ? seen(event.job) : undefined), stop.signal, onOpen);
  stop.abort();
  view.stop();
  return ended ?? (await api.get(id));
}

/** One argument is a shell line already; several are each quoted for /bin/sh and joined. */
export function shellLine(args: string[]): string {
  if (args.length === 1) return args[0]!;
  return args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)).join(' ');
}

/** `--since 30m`, `2h`, `7d`, or an ISO time, as the ISO time it means; a usage error otherwise. */
export function sinceTime(text: string, nowMs: number): string {
  const relative = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(nowMs - Number(relative[1]) * unit * 1000).toISOString();
  }
  const absolute = Date.parse(text);
  if (Number.isNaN(absolute)) throw new UsageError(`--since ${text}: expected 30m, 2h, 7d or an ISO time such as 2026-11-26T08:00:00Z`);
  return new Date(absolute).toISOString();
}
