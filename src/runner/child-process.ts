// What the runner needs of an encoder's process, however it was started (a pty, or plain pipes):
// its pid (also its process group: each starts a session of its own), its output, its exit.

export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
}

export interface EncoderProcess {
  pid: number;
  onData(listener: (chunk: string) => void): void;
  /** Called once, after the last of its output has been delivered. */
  onExit(listener: (exit: ProcessExit) => void): void;
}

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
}

export type SpawnProcess = (file: string, args: string[], options: SpawnOptions) => EncoderProcess;

/** A signal's name from its number (node-pty reports numbers); `signal N` for one without a name. */
export function signalName(signal: number, signals: Record<string, number>): string {
  const entry = Object.entries(signals).find(([, number]) => number === signal);
  return entry ? entry[0] : `signal ${signal}`;
}
