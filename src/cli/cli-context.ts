// What every `encsup` command shares: the streams it may use, the API client, usage errors, and
// readers for flag values.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ApiClient, ClientError, daemonUrl } from '../api/client.js';
import { readTokenFileSync } from '../api/token.js';

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

export interface CliContext {
  io: CliIo;
  /** The API of the daemon named by --url, ENCSUP_URL or ENCSUP_PORT, with its token. */
  client: () => ApiClient;
  /** The global --data-dir, when given. */
  dataDirFlag: () => string | undefined;
  setExitCode: (code: number) => void;
}

export function createContext(program: Command, io: CliIo, setExitCode: (code: number) => void): CliContext {
  const dataDirFlag = () => program.opts<{ dataDir?: string }>().dataDir;
  return {
    io,
    client: () => new ApiClient(daemonUrl(program.opts<{ url?: string }>().url, io.env), clientToken(dataDirFlag(), io)),
    dataDirFlag,
    setExitCode,
  };
}

/**
 * ENCSUP_TOKEN, else the token the daemon keeps in its data folder (--data-dir, ENCSUP_DATA_DIR,
 * ./.encsup): the user who runs the daemon needs no setup to use the CLI.
 */
export function clientToken(dataDirFlag: string | undefined, io: Pick<CliIo, 'env' | 'cwd'>): string | null {
  const fromEnv = io.env['ENCSUP_TOKEN'];
  if (fromEnv) return fromEnv;
  const dataDir = dataDirFlag || io.env['ENCSUP_DATA_DIR'] || './.encsup';
  return readTokenFileSync(resolve(io.cwd, dataDir));
}

/** A mistake in how the command was called; the message says which flag and why. */
export class UsageError extends Error {}

/** A repeatable flag's values so far: none before its first use (its default is left unset, so
 * that an unset flag falls back to its environment variable). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function optionalNumber(flag: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} ${text}: expected a number above 0`);
  return value;
}

/** Numbers go to the API as numbers; anything else as text, for the API to name what is wrong. */
export function numberOrText(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

export function parseEnvPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--env ${pair}: expected KEY=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/**
 * What the daemon says about a request field, said about the flag that filled it: `--timeout: …`
 * where the API says `timeoutSec: …`, since the flag is what the user typed.
 */
export async function inFlagTerms<T>(request: Promise<T>, flagOf: Record<string, string>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (!(error instanceof ClientError) || error.field === undefined || !(error.field in flagOf)) throw error;
    const flag = flagOf[error.field]!;
    const message = error.message.startsWith(`${error.field}:`) ? `${flag}:${error.message.slice(error.field.length + 1)}` : `${flag}: ${error.message}`;
    throw new ClientError(message, error.status, error.field);
  }
}
