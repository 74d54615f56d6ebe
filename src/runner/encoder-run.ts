// One run of a job's encoder (under a pty, or on pipes): its output as a stream of chunks, its exit as a value,
// and a way to end it that records why.
import { Observable, ReplaySubject } from '../progress/rx.js';
import type { Job, TerminationReason } from '../../machines/job-record.js';
import type { ProcessExit, SpawnProcess } from './child-process.js';
import { RUN_TAG_VARIABLE, endTagged } from './process-tag.js';
import { terminateGroup } from './terminate.js';

export interface EncoderRun {
  pid: number;
  /** Raw terminal output; completes when the encoder has exited. */
  chunks: Observable<string>;
  exited: Promise<ProcessExit>;
  /**
   * The leader's exit, once nothing of its process group and nothing carrying its tag is left:
   * whatever it started in the background is ended too (TERM, then KILL), so a finished job never
   * leaves an encoder behind and the next attempt never overlaps this one.
   */
  settled: Promise<ProcessExit>;
  /** Ends the whole process group: TERM, then KILL after the grace period. */
  terminate(reason: TerminationReason): Promise<void>;
  terminationReason: TerminationReason | null;
}

export interface EncoderRunOptions {
  /** The spawner this run uses: a pty's, or plain pipes'. */
  spawn: SpawnProcess;
  graceMs: number;
  /** The daemon's environment, under the job's own variables. */
  baseEnv: Record<string, string>;
  /** This run's tag (process-tag.ts), inherited by every process it starts. */
  tag: string;
}

/** argv for the job: its command as given, or through /bin/sh when it asks for a shell. */
export function commandLine(job: Pick<Job, 'command' | 'shell'>): { file: string; args: string[] } {
  if (job.shell) return { file: '/bin/sh', args: ['-c', job.command.join(' ')] };
  const [file, ...args] = job.command;
  return { file: file!, args };
}

export function startEncoder(job: Job, options: EncoderRunOptions): EncoderRun {
  const { file, args } = commandLine(job);
  // The tag last: no job's env can take it off or borrow another run's.
  const child = options.spawn(file, args, { cwd: job.cwd, env: { ...options.baseEnv, ...job.env, [RUN_TAG_VARIABLE]: options.tag } });
  const output = new ReplaySubject<string>(64);
  let resolveExit!: (exit: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((resolve) => (resolveExit = resolve));
  const gathered = gatherReads((text) => output.next(text));
  child.onData(gathered.add);
  child.onExit((exit) => {
    gathered.pass();
    output.complete();
    resolveExit(exit);
  });
  // Every process that carries the run's tag wherever it went (a setsid grandchild, a wrapper that
  // daemonized): nothing of a run outlives it.
  // Every process of the run started after its leader: only those are read.
  const endTaggedProcesses = () => endTagged((tag) => tag === options.tag, options.graceMs, child.pid);
  let swept = false;
  let terminating: Promise<unknown> | null = null;
  const run: EncoderRun = {
    pid: child.pid,
    chunks: output.asObservable(),
    exited,
    settled: exited.then(async (exit) => {
      await (terminating ?? terminateGroup(child.pid, { graceMs: options.graceMs, exited }));
      // After the group, one sweep for the tag: what escaped it, or was started while it ended.
      await endTaggedProcesses();
      swept = true;
      return exit;
    }),
    terminationReason: null,
    async terminate(reason) {
      // Ended and swept already: nothing of it is left to end.
      if (swept) return;
      run.terminationReason ??= reason;
      // Ended now, escaped ones too, not only once the leader has gone.
      terminating ??= Promise.all([terminateGroup(child.pid, { graceMs: options.graceMs, exited }), endTaggedProcesses()]);
      await terminating;
    },
  };
  return run;
}

// What an encoder prints within this long of the last piece goes down the progress pipeline as one
// piece: a program that prints in many small writes (ffmpeg's banner, a script's progress bar
// redrawn every few milliseconds) costs the daemon one pass of the pipeline per gathering, not one
// per read. A read after a quiet spell goes on at once: a status line twice a second (ffmpeg's)
// costs no timer, and on a busy box a wake-up costs more than the pass. Live progress is a few
// times a second anyway; the stall clock is a matter of minutes.
const GATHER_MS = 40;
// Passed on at once past this much held: a burst is not kept in memory.
const GATHER_CHARS = 64 * 1024;

/**
 * A read passed on at once when the last piece went on `gatherMs` ago or more; else held, with
 * the reads after it, until then, and passed on together. `pass` passes what is held now.
 */
export function gatherReads(
  onText: (text: string) => void,
  gatherMs = GATHER_MS,
  nowMs: () => number = () => performance.now(),
): { add: (chunk: string) => void; pass: () => void } {
  let held: string[] = [];
  let heldChars = 0;
  let timer: NodeJS.Timeout | null = null;
  let passedAtMs = Number.NEGATIVE_INFINITY;
  const passOn = (text: string) => {
    passedAtMs = nowMs();
    onText(text);
  };
  const pass = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (held.length === 0) return;
    const text = held.length === 1 ? held[0]! : held.join('');
    held = [];
    heldChars = 0;
    passOn(text);
  };
  const add = (chunk: string) => {
    const waitMs = passedAtMs + gatherMs - nowMs();
    if (timer === null && waitMs <= 0) return passOn(chunk);
    held.push(chunk);
    heldChars += chunk.length;
    if (heldChars >= GATHER_CHARS) return pass();
    timer ??= setTimeout(pass, Math.max(0, waitMs));
  };
  return { add, pass };
}
