// The daemon's settings: flags > environment > defaults, each value validated once, here. The
// original system's VIDEO_PROCESSING_* names are read as aliases so existing .env files keep working.
// The table below is the one place a setting is declared: `encsup daemon`'s flags and their help
// are generated from it, so a documented flag cannot go missing again.
import { delimiter, resolve } from 'node:path';
import { z } from 'zod';
import { parseResourceList } from './resources/resource-spec.js';
import { DEFAULT_RETRY_RULES, FAILURE_KINDS, type FailureKind, RETRY_RULES, type RetryRule } from '../machines/failure-kinds.js';
import { parseAge } from './jobs/retention.js';
import { LIFECYCLE_KINDS } from '../machines/lifecycle.js';
import { isLoopback } from './api/host-names.js';
import { HOST_NAME_PATTERN, defaultHostName } from './farm/host-name.js';
import { parsePathMaps } from './farm/path-map.js';
import { ConfigError } from './config-error.js';

export { ConfigError } from './config-error.js';

const booleanText = z
  .string()
  .trim()
  .toLowerCase()
  .refine((text) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(text), 'expected true or false')
  .transform((text) => ['1', 'true', 'yes', 'on'].includes(text));

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires at once. */
/** Seconds between a guard's kill deadline (after the grace) and the lease's end: drift and scheduling. */
export const LEASE_MARGIN_SEC = 2;
export const MAX_TIMER_SEC = Math.floor((2 ** 31 - 1) / 1000);
const MAX_CONCURRENT = 1024;

// Runtime-changeable settings take numbers only (PATCH /api/config); the flag and env forms read text.
export const maxConcurrentSchema = z.number().int('expected a whole number').min(0, 'expected 0 (no cap) or more').max(MAX_CONCURRENT, `expected at most ${MAX_CONCURRENT}`);
export const progressThresholdSchema = z.number().gt(0, 'expected a percentage above 0').max(100, 'expected at most 100');
const portSchema = z.coerce.number().int('expected a whole number').min(0).max(65535, 'expected a port from 0 to 65535');
// Folder lists use the PATH separator (':'), as PATH does; an empty list is no folders.
const folderList = z.string().transform((text) => text.split(delimiter).map((each) => each.trim()).filter(Boolean).map((each) => resolve(each)));
const nameList = z.string().transform((text) => text.split(/[\s,]+/).filter(Boolean).map((name) => name.toLowerCase()));
const extensionList = z
  .string()
  .transform((text) => text.split(/[\s,]+/).filter(Boolean).map((ext) => (ext.startsWith('.') ? ext : `.${ext}`).toLowerCase()))
  .refine((list) => list.length > 0, 'expected at least one extension');

/** Seconds that become a timer: refused past what a timer can hold, rather than firing at once. */
export function secondsSchema(floor: 'positive' | 'zero-allowed', zeroMeans = '') {
  const base = z.coerce.number();
  const bounded = floor === 'positive' ? base.positive('expected a number of seconds above 0') : base.min(0, `expected seconds${zeroMeans ? `, ${zeroMeans}` : ', 0 or more'}`);
  return bounded.max(MAX_TIMER_SEC, `expected at most ${MAX_TIMER_SEC} seconds (about 24 days: the longest timer Node can hold)`);
}

/** `cpu=2,gpu=2,nvenc=3`, `auto` (GPUs detected), or both (`auto,nvenc=2`: what is named wins). */
const resourcesSetting = z.string().transform((text, context) => {
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  const auto = items.includes('auto');
  try {
    return { auto, declared: parseResourceList(items.filter((item) => item !== 'auto').join(','), 'resources') };
  } catch (error) {
    context.addIssue({ code: 'custom', message: `${(error as Error).message.replace(/^resources: /, '')} (expected e.g. cpu=2,gpu=2,nvenc=3 or auto)` });
    return z.NEVER;
  }
});

/** `disk-full=never,killed=backoff`: rules that replace the defaults for those kinds. */
const retryRulesSetting = z.string().transform((text, context) => {
  const rules: Record<FailureKind, RetryRule> = { ...DEFAULT_RETRY_RULES };
  for (const part of text.split(',').map((each) => each.trim()).filter(Boolean)) {
    const [kind, rule] = part.split('=').map((each) => each.trim());
    if (!(FAILURE_KINDS as readonly string[]).includes(kind ?? '')) {
      context.addIssue({ code: 'custom', message: `"${kind}" is not a failure kind (${FAILURE_KINDS.join(', ')})` });
      return z.NEVER;
    }
    if (!(RETRY_RULES as readonly string[]).includes(rule ?? '')) {
      context.addIssue({ code: 'custom', message: `"${rule ?? ''}" is not a retry rule for ${kind} (${RETRY_RULES.join(', ')})` });
      return z.NEVER;
    }
    rules[kind as FailureKind] = rule as RetryRule;
  }
  return rules;
});

/** The job store: empty for the nedb file in the data folder, or a PostgreSQL URL. */
const storeSetting = z.string().refine((text) => text === '' || /^postgres(?:ql)?:\/\/./.test(text), 'expected a PostgreSQL URL (postgres://user:password@host:5432/database), or nothing for the file in the data folder');

/** A size: `1G`, `500M`, `2GiB`, or bytes. */
const hostNameSetting = z.string().refine((text) => text === '' || HOST_NAME_PATTERN.test(text), 'expected letters, digits, and . _ - (at most 63 characters)');
const labelList = z.string().transform((text, context) => {
  const labels = text.split(/[\s,]+/).filter(Boolean);
  const bad = labels.find((label) => !HOST_NAME_PATTERN.test(label));
  if (bad !== undefined) context.addIssue({ code: 'custom', message: `${bad}: a label is letters, digits, and . _ - (at most 63 characters)` });
  return labels;
});
const pathMapSetting = z.string().transform((text, context) => {
  const parsed = parsePathMaps(text.split(delimiter).filter(Boolean));
  if (!parsed.ok) {
    context.addIssue({ code: 'custom', message: parsed.problem });
    return z.NEVER;
  }
  return parsed.maps;
});

const sizeSetting = z.string().transform((text, context) => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) {
    context.addIssue({ code: 'custom', message: 'expected a size such as 1G, 500M or a number of bytes (0 = no check)' });
    return z.NEVER;
  }
  const power = ' kmgt'.indexOf((match[2] || ' ').toLowerCase());
  return Math.round(Number(match[1]) * 1024 ** power);
});

/** An age: `30d`, `12h`, `90m`, `45s` or seconds; 0 means forever. */
const ageSchema = z.string().transform((text, context) => {
  const seconds = parseAge(text);
  if (seconds === null) {
    context.addIssue({ code: 'custom', message: 'expected an age such as 30d, 12h, 90m or a number of seconds (0 = forever)' });
    return z.NEVER;
  }
  return seconds;
});

interface Setting {
  /** Environment names, first wins. */
  env: readonly string[];
  /** The daemon's flag; `--no-x` for a switch that is on by default. */
  flag: string;
  /** The placeholder in `--flag <value>`; absent for a switch. */
  value?: string;
  /** Given several times, the values join into a PATH-style list. */
  repeatable?: boolean;
  help: string;
  fallback: string;
  schema: z.ZodType;
}

/** Every setting: environment names, flag, help, default and parser. */
const SETTINGS = {
  dataDir: { env: ['ENCSUP_DATA_DIR'], flag: '--data-dir', value: 'dir', help: 'folder for the job store, token and logs', fallback: './.encsup', schema: z.string().min(1) },
  host: { env: ['ENCSUP_HOST'], flag: '--host', value: 'host', help: 'address to listen on', fallback: '127.0.0.1', schema: z.string().min(1) },
  port: { env: ['ENCSUP_PORT'], flag: '--port', value: 'port', help: 'API port (0 = any free port)', fallback: '8787', schema: portSchema },
  token: { env: ['ENCSUP_TOKEN'], flag: '--token', value: 'token', help: 'API token (at least 16 characters); without one the daemon generates one and keeps it in the data folder (file `token`, 0600)', fallback: '', schema: z.string().refine((token) => token === '' || token.length >= 16, 'a token needs at least 16 characters: use the generated one, or `openssl rand -hex 32`') },
  auth: { env: ['ENCSUP_AUTH'], flag: '--no-auth', help: 'serve without a token (loopback only; ENCSUP_AUTH=off)', fallback: 'on', schema: booleanText },
  allowedHosts: { env: ['ENCSUP_ALLOWED_HOSTS'], flag: '--allowed-hosts', value: 'names', help: 'extra Host header names the API answers to, e.g. "encode1.lan proxy.example.com" (DNS rebinding defence)', fallback: '', schema: nameList },
  inspectPort: { env: ['ENCSUP_INSPECT_PORT'], flag: '--inspect', value: 'port', help: 'Stately inspector relay on this loopback port (0 = off)', fallback: '0', schema: portSchema },
  maxConcurrent: { env: ['ENCSUP_MAX_CONCURRENT', 'VIDEO_PROCESSING_MAX_CONCURRENT'], flag: '--max-concurrent', value: 'n', help: 'encodes at once, 0 = no cap', fallback: '2', schema: z.coerce.number().pipe(maxConcurrentSchema) },
  progressThreshold: { env: ['ENCSUP_PROGRESS_THRESHOLD', 'VIDEO_PROCESSING_PROGRESS_THRESHOLD'], flag: '--progress-threshold', value: 'percent', help: 'store progress when it moved this much', fallback: '1.0', schema: z.coerce.number().pipe(progressThresholdSchema) },
  webhookUrl: { env: ['ENCSUP_WEBHOOK_URL'], flag: '--webhook-url', value: 'url', help: "POST every job's lifecycle events here unless the job names its own webhook", fallback: '', schema: z.string().refine((text) => text === '' || /^https?:\/\/[^\s]+$/.test(text), 'expected an http or https URL') },
  webhookEvents: { env: ['ENCSUP_WEBHOOK_EVENTS'], flag: '--webhook-events', value: 'kinds', help: 'which events the default webhook gets, e.g. "done failed cancelled started"', fallback: 'done failed cancelled', schema: nameList.refine((kinds) => kinds.every((kind) => (LIFECYCLE_KINDS as readonly string[]).includes(kind)), `expected lifecycle kinds: ${LIFECYCLE_KINDS.join(', ')}`) },
  webhookRetrySec: { env: ['ENCSUP_WEBHOOK_RETRY_SEC'], flag: '--webhook-retry', value: 'seconds', help: 'a failed webhook delivery is tried again after this long, doubling each time (at most an hour; 25 tries)', fallback: '2', schema: secondsSchema('positive') },
  webhookSecret: { env: ['ENCSUP_WEBHOOK_SECRET'], flag: '--webhook-secret', value: 'secret', help: 'HMAC-SHA256 key of webhook signatures; without one, generated in <data-dir>/webhook-secret', fallback: '', schema: z.string() },
  keepFinishedSec: { env: ['ENCSUP_KEEP_FINISHED'], flag: '--keep-finished', value: 'age', help: 'remove finished jobs (and their logs) that ended longer ago than this, e.g. 30d; 0 = keep forever', fallback: '0', schema: ageSchema },
  keepLogsSec: { env: ['ENCSUP_KEEP_LOGS'], flag: '--keep-logs', value: 'age', help: "remove finished jobs' logs older than this, e.g. 7d (the record and its last lines stay); 0 = keep forever", fallback: '0', schema: ageSchema },
  keepFailedOutputs: { env: ['ENCSUP_KEEP_FAILED_OUTPUTS'], flag: '--keep-failed-outputs', value: 'bool', help: 'true: a failed attempt\'s {output} file is kept aside (.NAME.encsup-ID-N.failed.EXT) instead of removed', fallback: 'false', schema: booleanText },
  trackProgress: { env: ['ENCSUP_TRACK_PROGRESS', 'VIDEO_PROCESSING_TRACK_PROGRESS'], flag: '--track-progress', value: 'bool', help: 'false: store only the first and the final progress update', fallback: 'true', schema: booleanText },
  progressHeartbeatSec: { env: ['ENCSUP_PROGRESS_HEARTBEAT_SEC'], flag: '--progress-heartbeat', value: 'seconds', help: 'store any progress change after this long', fallback: '5', schema: secondsSchema('positive') },
  timeoutSec: { env: ['ENCSUP_TIMEOUT_SEC'], flag: '--timeout', value: 'seconds', help: 'default limit for a whole encode, 0 = none', fallback: '7200', schema: secondsSchema('zero-allowed', '0 for no limit') },
  stallTimeoutSec: { env: ['ENCSUP_STALL_TIMEOUT_SEC'], flag: '--stall-timeout', value: 'seconds', help: 'default: no new output or progress this long = stalled, 0 = never', fallback: '300', schema: secondsSchema('zero-allowed', '0 for never') },
  maxAttempts: { env: ['ENCSUP_MAX_ATTEMPTS'], flag: '--max-attempts', value: 'n', help: 'default attempts before a job fails for good', fallback: '3', schema: z.coerce.number().int('expected a whole number').min(1, 'expected at least 1').max(100, 'expected at most 100') },
  retryBackoffSec: { env: ['ENCSUP_RETRY_BACKOFF_SEC'], flag: '--retry-backoff', value: 'seconds', help: 'first retry after this long, doubling after (at most 10 minutes)', fallback: '5', schema: secondsSchema('zero-allowed') },
  drainSec: { env: ['ENCSUP_DRAIN_SEC'], flag: '--drain', value: 'seconds', help: 'on SIGTERM, let running jobs finish for up to this long before requeuing', fallback: '0', schema: secondsSchema('zero-allowed', '0 to requeue running jobs at once') },
  killGraceSec: { env: ['ENCSUP_KILL_GRACE_SEC'], flag: '--kill-grace', value: 'seconds', help: 'between SIGTERM and SIGKILL when ending an encoder', fallback: '10', schema: secondsSchema('positive') },
  maxLogBytes: { env: ['ENCSUP_MAX_LOG_BYTES'], flag: '--max-log-size', value: 'bytes', help: "cap of each job's log file; older output is dropped from the front", fallback: String(16 * 1024 * 1024), schema: z.coerce.number().int('expected a whole number of bytes').min(64 * 1024, 'expected at least 65536 bytes').max(2 ** 40, 'expected at most 1 TiB') },
  store: { env: ['ENCSUP_STORE', 'DATABASE_URL'], flag: '--store', value: 'url', help: 'keep jobs in PostgreSQL (postgres://user:password@host/db) instead of the file in the data folder', fallback: '', schema: storeSetting },
  hostName: { env: ['ENCSUP_HOST_NAME'], flag: '--host-name', value: 'name', help: "this daemon's name in a farm (several daemons on one PostgreSQL store); default: the machine's hostname", fallback: '', schema: hostNameSetting },
  labels: { env: ['ENCSUP_LABELS'], flag: '--labels', value: 'names', help: 'labels of this host in a farm, e.g. "nvenc fast-disk"; a job submitted with --on LABEL runs only on hosts that have it', fallback: '', schema: labelList },
  pathMaps: { env: ['ENCSUP_PATH_MAP'], flag: '--path-map', value: 'farm=local', repeatable: true, help: 'in a farm, a shared folder the farm names FARM is mounted at LOCAL on this host, e.g. /mnt/nas=/Volumes/nas (repeatable)', fallback: '', schema: pathMapSetting },
  leaseSec: { env: ['ENCSUP_LEASE_SEC'], flag: '--lease', value: 'seconds', help: "in a farm, a running job's lease: renewed every sixth of it; a host that cannot renew ends its encoders before it runs out, and another host runs the job again", fallback: '30', schema: secondsSchema('positive') },
  resources: { env: ['ENCSUP_RESOURCES'], flag: '--resources', value: 'spec', help: 'what this box has, e.g. cpu=4,gpu=2,nvenc=3; auto detects GPUs (nvidia-smi, /dev/dri); a resource not named is unlimited', fallback: '', schema: resourcesSetting },
  minFreeBytes: { env: ['ENCSUP_MIN_FREE'], flag: '--min-free', value: 'size', help: "a job waits while its output folder has less free space than this, e.g. 1G (0 = no check)", fallback: '1G', schema: sizeSetting },
  retryRules: { env: ['ENCSUP_RETRY_RULES'], flag: '--retry-rules', value: 'kind=rule,…', help: 'override retry rules by failure kind, e.g. disk-full=never,corrupt-input=backoff (rules: never, backoff, other-device, disk-space)', fallback: '', schema: retryRulesSetting },
  maxOvertakes: { env: ['ENCSUP_MAX_OVERTAKES'], flag: '--max-overtakes', value: 'n', help: 'later jobs that may start ahead of a waiting one using what it waits for, before what frees up is held for it', fallback: '3', schema: z.coerce.number().int('expected a whole number').min(0, 'expected 0 or more').max(1000, 'expected at most 1000') },
  fileWatcher: { env: ['ENCSUP_FILE_WATCHER', 'VIDEO_PROCESSING_FILE_WATCHER'], flag: '--file-watcher', value: 'bool', help: 'watch the output folder (when no --watch folder is listed)', fallback: 'false', schema: booleanText },
  watchDirs: { env: ['ENCSUP_WATCH_DIRS'], flag: '--watch', value: 'dir', repeatable: true, help: 'watch this output folder (repeatable)', fallback: '', schema: folderList },
  reportDirs: { env: ['ENCSUP_REPORT_DIRS'], flag: '--report-dir', value: 'dir', repeatable: true, help: 'also accept reports of complete files (POST /api/outputs, encsup watch-output) in this folder (repeatable)', fallback: '', schema: folderList },
  outputDir: { env: ['ENCSUP_OUTPUT_DIR'], flag: '--output-dir', value: 'dir', help: 'the output folder that --file-watcher watches', fallback: '', schema: z.string() },
  watchExtensions: { env: ['ENCSUP_WATCH_EXTENSIONS'], flag: '--watch-ext', value: 'exts', help: 'extensions that count as outputs, e.g. ".mp4 .mkv"', fallback: '.mp4 .mkv .webm .mov .avi .m4v .mp3 .m4a .wav .gif', schema: extensionList },
  watchStabilitySec: { env: ['ENCSUP_WATCH_STABILITY_SEC'], flag: '--watch-stability', value: 'seconds', help: 'a file written from elsewhere (a network share, --watch-shared) is complete once unchanged this long; one a process on this machine wrote, once it has closed it', fallback: '2', schema: secondsSchema('positive') },
  sharedWatchDirs: { env: ['ENCSUP_WATCH_SHARED'], flag: '--watch-shared', value: 'dir', repeatable: true, help: 'a watched folder that other machines or containers write to, where no local process table shows the writer (network filesystems are recognised without it; repeatable)', fallback: '', schema: folderList },
  durationTolerancePct: { env: ['ENCSUP_DURATION_TOLERANCE'], flag: '--duration-tolerance', value: 'percent', help: "how far an output's duration may be from the expected one", fallback: '2', schema: z.coerce.number().min(0, 'expected a percentage, 0 or more') },
  watcherIntervalSec: { env: ['ENCSUP_WATCHER_INTERVAL', 'VIDEO_PROCESSING_WATCHER_INTERVAL'], flag: '--watcher-interval', value: 'seconds', help: 'poll folders at this period instead of change events (network filesystems), 0 = events', fallback: '0', schema: secondsSchema('zero-allowed', '0 (change events) or a polling period') },
} as const satisfies Record<string, Setting>;

type Settings = typeof SETTINGS;
export type SettingName = keyof Settings;
export type DaemonConfig = { [K in SettingName]: z.output<Settings[K]['schema']> };

/** The settings as the CLI registers them, in table order. */
export function settingFlags(): { name: SettingName; flag: string; value: string | undefined; repeatable: boolean; help: string; env: readonly string[]; fallback: string }[] {
  return (Object.entries(SETTINGS) as [SettingName, Setting][]).map(([name, setting]) => ({
    name,
    flag: setting.flag,
    value: setting.value,
    repeatable: setting.repeatable === true,
    help: setting.help,
    env: setting.env,
    fallback: setting.fallback,
  }));
}

/** A setting that could not be read; `source` names the flag or variable the value came from. */

export type ConfigFlags = Partial<Record<SettingName, string | number | boolean | undefined>>;

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv): DaemonConfig {
  const config: Record<string, unknown> = {};
  const sources: Record<string, { source: string; value: string }> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const picked = pick(name, setting, flags, env);
    const parsed = setting.schema.safeParse(picked.value);
    if (!parsed.success) throw new ConfigError(picked.source, picked.value, parsed.error.issues[0]?.message ?? 'invalid');
    config[name] = parsed.data;
    sources[name] = picked;
  }
  const resolved = config as DaemonConfig;
  // Checks across settings, so the daemon never starts in a state it would refuse later.
  if (!resolved.auth && !isLoopback(resolved.host)) {
    throw new ConfigError(sources['auth']!.source, sources['auth']!.value, `serving without a token is allowed on loopback only, and --host is ${resolved.host}`);
  }
  if (resolved.fileWatcher && resolved.watchDirs.length === 0 && resolved.outputDir === '') {
    throw new ConfigError(sources['fileWatcher']!.source, sources['fileWatcher']!.value, 'the watcher is on but has no folder: set ENCSUP_OUTPUT_DIR or ENCSUP_WATCH_DIRS (or --watch)');
  }
  // The guard ends a host's encoders a kill grace and a margin before its lease runs out.
  if (resolved.store !== '' && resolved.leaseSec < resolved.killGraceSec + LEASE_MARGIN_SEC + 1) {
    throw new ConfigError(sources['leaseSec']!.source, sources['leaseSec']!.value, `a lease must be longer than --kill-grace (${resolved.killGraceSec} s) + ${LEASE_MARGIN_SEC + 1} s, so a host that cannot renew has ended its encoders before it runs out`);
  }
  return { ...resolved, hostName: resolved.hostName === '' ? defaultHostName() : resolved.hostName, dataDir: resolve(resolved.dataDir), outputDir: resolved.outputDir === '' ? '' : resolve(resolved.outputDir) };
}

/**
 * The folders the daemon's watcher covers: the listed ones, or, with the original system's
 * VIDEO_PROCESSING_FILE_WATCHER switch on, the configured output folder.
 */
export function watchedFolders(config: Pick<DaemonConfig, 'watchDirs' | 'fileWatcher' | 'outputDir'>): string[] {
  if (config.watchDirs.length > 0) return config.watchDirs;
  if (config.fileWatcher && config.outputDir !== '') return [config.outputDir];
  return [];
}

function pick(name: SettingName, setting: Setting, flags: ConfigFlags, env: NodeJS.ProcessEnv) {
  const flag = flags[name];
  if (flag !== undefined) return { source: setting.flag, value: String(flag) };
  for (const variable of setting.env) {
    // An empty variable (`NAME=` in a .env file) means "not set", as shells treat it.
    const value = env[variable];
    if (value !== undefined && value !== '') return { source: variable, value };
  }
  return { source: `default ${name}`, value: setting.fallback };
}
