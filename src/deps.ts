// Everything the daemon reaches outside itself, in one object, so tests can pass real or fast parts.
import { randomBytes } from 'node:crypto';
import type { Logger } from './logger.js';
import { type GpuProbe, systemGpuProbe } from './resources/gpu-detect.js';
import { createLogger } from './logger.js';
import type { SpawnProcess } from './runner/child-process.js';
import { spawnPipes } from './runner/pipes.js';
import { spawnPty } from './runner/pty.js';
import type { JobStore } from './store/job-store.js';
import { openFileStore } from './store/file-store.js';

export interface Deps {
  nowMs: () => number;
  newId: () => string;
  /** Starts an encoder under a terminal, or on plain pipes (terminal-choice.ts decides which). */
  spawnPty: SpawnProcess;
  spawnPipes: SpawnProcess;
  openStore: (filename: string) => Promise<JobStore>;
  logger: Logger;
  /** The environment encoders start from, under each job's own variables. */
  baseEnv: Record<string, string>;
  /**
   * Called at named points where a crash would be worst, so a test can end the daemon exactly
   * there (kill -9 of itself). Does nothing unless ENCSUP_TEST_CRASH_AT names the point.
   */
  faultPoint: (point: FaultPoint) => void;
  /** How `--resources auto` finds GPUs: nvidia-smi and /dev/dri, or recorded output in tests. */
  gpuProbe: GpuProbe;
}

export const FAULT_POINTS = ['after-spawn'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** ENCSUP_TEST_CRASH_AT=after-spawn: the daemon kills itself (SIGKILL) at that point, as a power cut would. */
export function faultPointFrom(env: NodeJS.ProcessEnv): (point: FaultPoint) => void {
  const at = env['ENCSUP_TEST_CRASH_AT'];
  if (at === undefined || !(FAULT_POINTS as readonly string[]).includes(at)) return () => undefined;
  return (point) => {
    if (point === at) process.kill(process.pid, 'SIGKILL');
  };
}

export function createDefaultDeps(overrides: Partial<Deps> = {}): Deps {
  return {
    nowMs: Date.now,
    // 12 hex digits: short enough to type, 2^48 ids before a collision is likely.
    newId: () => randomBytes(6).toString('hex'),
    spawnPty,
    spawnPipes,
    openStore: openFileStore,
    logger: createLogger(),
    baseEnv: encoderEnvironment(process.env),
    faultPoint: faultPointFrom(process.env),
    gpuProbe: systemGpuProbe,
    ...overrides,
  };
}

// The store's URL (with its password) under the name Heroku-style setups give it.
const DAEMON_SECRETS = ['DATABASE_URL'];

/**
 * The daemon's environment as encoders see it: without the daemon's own settings and secrets
 * (ENCSUP_TOKEN, ENCSUP_*), which no job needs and any job could print.
 */
export function encoderEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('ENCSUP_') && !DAEMON_SECRETS.includes(entry[0])));
}
