// The daemon's settings: flags > environment > defaults, each value validated once, here. The
// original system's VIDEO_PROCESSING_* names are read as aliases so existing .env files keep working.
import { delimiter, resolve } from 'node:path';
import { z } from 'zod';

const booleanText = z
  .string()
  .trim()
  .toLowerCase()
  .refine((text) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(text), 'expected true or false')
  .transform((text) => ['1', 'true', 'yes', 'on'].includes(text));

export const maxConcurrentSchema = z.coerce.number().int('expected a whole number').min(0, 'expected 0 (no cap) or more');
export const progressThresholdSchema = z.coerce.number().gt(0, 'expected a percentage above 0').max(100, 'expected at most 100');
const portSchema = z.coerce.number().int('expected a whole number').min(0).max(65535, 'expected a port from 0 to 65535');
// Folder lists use the PATH separator (':'), as PATH does; an empty list is no folders.
const folderList = z.string().transform((text) => text.split(delimiter).map((each) => each.trim()).filter(Boolean).map((each) => resolve(each)));
const extensionList = z
  .string()
  .transform((text) => text.split(/[\s,]+/).filter(Boolean).map((ext) => (ext.startsWith('.') ? ext : `.${ext}`).toLowerCase()))
  .refine((list) => list.length > 0, 'expected at least one extension');
const secondsSchema = z.coerce.number().positive('expected a number of seconds above 0');

/** Every setting: its environment names (first wins), flag name, default and parser. */
const SETTINGS = {
  dataDir: { env: ['ENCSUP_DATA_DIR'], flag: '--data-dir', fallback: './.encsup', schema: z.string().min(1) },
  host: { env: ['ENCSUP_HOST'], flag: '--host', fallback: '127.0.0.1', schema: z.string().min(1) },
  token: { env: ['ENCSUP_TOKEN'], flag: '--token', fallback: '', schema: z.string() },
  inspectPort: { env: ['ENCSUP_INSPECT_PORT'], flag: '--inspect', fallback: '0', schema: portSchema },
  port: { env: ['ENCSUP_PORT'], flag: '--port', fallback: '8787', schema: portSchema },
  maxConcurrent: {
    env: ['ENCSUP_MAX_CONCURRENT', 'VIDEO_PROCESSING_MAX_CONCURRENT'],
    flag: '--max-concurrent',
    fallback: '2',
    schema: maxConcurrentSchema,
  },
  progressThreshold: {
    env: ['ENCSUP_PROGRESS_THRESHOLD', 'VIDEO_PROCESSING_PROGRESS_THRESHOLD'],
    flag: '--progress-threshold',
    fallback: '1.0',
    schema: progressThresholdSchema,
  },
  trackProgress: {
    env: ['ENCSUP_TRACK_PROGRESS', 'VIDEO_PROCESSING_TRACK_PROGRESS'],
    flag: '--track-progress',
    fallback: 'true',
    schema: booleanText,
  },
  progressHeartbeatSec: { env: ['ENCSUP_PROGRESS_HEARTBEAT_SEC'], flag: '--progress-heartbeat', fallback: '5', schema: secondsSchema },
  timeoutSec: { env: ['ENCSUP_TIMEOUT_SEC'], flag: '--timeout', fallback: '7200', schema: z.coerce.number().min(0, 'expected seconds, 0 for no limit') },
  stallTimeoutSec: { env: ['ENCSUP_STALL_TIMEOUT_SEC'], flag: '--stall-timeout', fallback: '300', schema: z.coerce.number().min(0, 'expected seconds, 0 for never') },
  maxAttempts: { env: ['ENCSUP_MAX_ATTEMPTS'], flag: '--max-attempts', fallback: '3', schema: z.coerce.number().int('expected a whole number').min(1, 'expected at least 1') },
  retryBackoffSec: { env: ['ENCSUP_RETRY_BACKOFF_SEC'], flag: '--retry-backoff', fallback: '5', schema: z.coerce.number().min(0, 'expected seconds, 0 or more') },
  drainSec: { env: ['ENCSUP_DRAIN_SEC'], flag: '--drain', fallback: '0', schema: z.coerce.number().min(0, 'expected seconds, 0 to requeue running jobs at once') },
  killGraceSec: { env: ['ENCSUP_KILL_GRACE_SEC'], flag: '--kill-grace', fallback: '10', schema: secondsSchema },
  fileWatcher: {
    env: ['ENCSUP_FILE_WATCHER', 'VIDEO_PROCESSING_FILE_WATCHER'],
    flag: '--file-watcher',
    fallback: 'false',
    schema: booleanText,
  },
  watchDirs: { env: ['ENCSUP_WATCH_DIRS'], flag: '--watch', fallback: '', schema: folderList },
  outputDir: { env: ['ENCSUP_OUTPUT_DIR'], flag: '--output-dir', fallback: '', schema: z.string() },
  watchExtensions: {
    env: ['ENCSUP_WATCH_EXTENSIONS'],
    flag: '--watch-ext',
    fallback: '.mp4 .mkv .webm .mov .avi .m4v .mp3 .m4a .wav .gif',
    schema: extensionList,
  },
  watchStabilitySec: { env: ['ENCSUP_WATCH_STABILITY_SEC'], flag: '--watch-stability', fallback: '2', schema: secondsSchema },
  durationTolerancePct: {
    env: ['ENCSUP_DURATION_TOLERANCE'],
    flag: '--duration-tolerance',
    fallback: '2',
    schema: z.coerce.number().min(0, 'expected a percentage, 0 or more'),
  },
  watcherIntervalSec: {
    env: ['ENCSUP_WATCHER_INTERVAL', 'VIDEO_PROCESSING_WATCHER_INTERVAL'],
    flag: '--watcher-interval',
    fallback: '0',
    schema: z.coerce.number().min(0, 'expected 0 (change events) or a polling period in seconds'),
  },
} as const;

type Settings = typeof SETTINGS;
export type SettingName = keyof Settings;
export type DaemonConfig = { [K in SettingName]: z.output<Settings[K]['schema']> };

/** A setting that could not be read; `source` names the flag or variable the value came from. */
export class ConfigError extends Error {
  readonly code = 'ENCSUP_BAD_CONFIG';
  constructor(
    readonly source: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${source}=${JSON.stringify(value)} is not valid: ${reason}`);
  }
}

export type ConfigFlags = Partial<Record<SettingName, string | number | boolean | undefined>>;

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv): DaemonConfig {
  const config: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Settings[SettingName]][]) {
    const { source, value } = pick(name, setting, flags, env);
    const parsed = setting.schema.safeParse(value);
    if (!parsed.success) throw new ConfigError(source, value, parsed.error.issues[0]?.message ?? 'invalid');
    config[name] = parsed.data;
  }
  const resolved = config as DaemonConfig;
  return { ...resolved, dataDir: resolve(resolved.dataDir), outputDir: resolved.outputDir === '' ? '' : resolve(resolved.outputDir) };
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

function pick(name: SettingName, setting: Settings[SettingName], flags: ConfigFlags, env: NodeJS.ProcessEnv) {
  const flag = flags[name];
  if (flag !== undefined) return { source: setting.flag, value: String(flag) };
  for (const variable of setting.env) {
    // An empty variable (`NAME=` in a .env file) means "not set", as shells treat it.
    const value = env[variable];
    if (value !== undefined && value !== '') return { source: variable, value };
  }
  return { source: `default ${name}`, value: setting.fallback };
}
