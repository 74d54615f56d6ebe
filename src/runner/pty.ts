// Encoders run in a real terminal so they print live progress; each leads a session of its own, so
// its pid is also its process group id. The terminal and the program are started by the daemon's
// own posix_spawn (native/posix-spawn.c) where it was built, else by node-pty's native fork: the
// only door to node-pty.
//
// Linux drops what is still queued in a terminal when the last holder of its program side closes
// it: a program that prints a burst and exits (a help page, a traceback, x264's summary) loses the
// end of it whenever the reader is behind, a few times in a hundred runs of a 2 KB burst on a busy
// daemon (node-pty issues #85 and #726). So the daemon holds the program side open itself, and
// once the program has exited it writes a mark of its own behind the program's output: everything
// the program printed comes before the mark, and the exit is told when the mark has been read.
// node-pty's `spawn` tells the exit only when the terminal closes, so its fork is called directly
// (the same call its `spawn` makes), with the exit told to this module.
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, write } from 'node:fs';
import { constants } from 'node:os';
import { ReadStream } from 'node:tty';
import * as pty from 'node-pty';
import { type ProcessExit, type SpawnOptions, type SpawnProcess, signalName } from './child-process.js';
import { spawnAsExecvp } from './launch.js';
import { type NativeProcesses, nativeProcesses } from './native.js';
import { type PacedReads, readPaced } from './paced-reads.js';
import { whenReaped } from './reaper.js';

/** node-pty's native module, as its `spawn` calls it (exported by node-pty as `native`). */
interface NativePty {
  fork(
    file: string,
    args: string[],
    env: string[],
    cwd: string,
    cols: number,
    rows: number,
    uid: number,
    gid: number,
    utf8: boolean,
    helperPath: string,
    onExit: (exitCode: number, signal: number) => void,
  ): { fd: number; pid: number; pty: string };
}

// Wide enough that tools which size their bars to the terminal (tqdm) print whole lines.
const COLUMNS = 160;
const ROWS = 40;
const TERMINAL_NAME = 'xterm-256color';
// The mark comes back within milliseconds; past this, something holds the terminal that should
// not (it is then closed, and the exit told with what was read).
const MARK_WAIT_MS = 2000;

// Null where node-pty has no build for the platform: said when a run asks for a terminal.
const native = (pty as unknown as { native: NativePty | null }).native;

/** A program started in a new terminal: its pid, the terminal's master, and its program side held here (null: gone already). */
interface StartedInTerminal {
  pid: number;
  master: number;
  holder: number | null;
}

/**
 * posix_spawn (native/posix-spawn.c), where it was built: no copy of the daemon's page tables, no
 * copy-on-write faults after, and no thread of node-pty's per job to wait for the exit, which is
 * told by the reaper the jobs on pipes use. The program's side is opened before the program starts.
 */
function startWithPosixSpawn(native: NativeProcesses, file: string, args: string[], options: SpawnOptions, onExit: (exit: ProcessExit) => void): StartedInTerminal {
  const [pid, master, holder] = spawnAsExecvp(file, args, options, (path, argv, envp) => native.spawnInTerminal(path, argv, envp, options.cwd, COLUMNS, ROWS));
  whenReaped(native, pid, onExit);
  return { pid, master, holder };
}

/** node-pty's native fork, where the daemon's own native part was not built. */
function startWithNodePty(file: string, args: string[], options: SpawnOptions, onExit: (exit: ProcessExit) => void): StartedInTerminal {
  if (!native) throw new Error('node-pty has no native module on this platform');
  const env = Object.entries(options.env).map(([name, value]) => `${name}=${value}`);
  const term = native.fork(file, args, env, options.cwd, COLUMNS, ROWS, -1, -1, true, '', (exitCode, signal) => {
    const name = signal ? signalName(signal, constants.signals) : null;
    onExit({ exitCode: name ? null : exitCode, signal: name });
  });
  let holder: number | null = null;
  try {
    holder = openSync(term.pty, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
  } catch {
    // Gone already (the program could not even start): its output ends when the terminal closes.
  }
  return { pid: term.pid, master: term.fd, holder };
}

export const spawnPty: SpawnProcess = (file, args, options) => {
  const dataListeners: ((chunk: string) => void)[] = [];
  const exitListeners: ((exit: ProcessExit) => void)[] = [];
  let told: ProcessExit | null = null;
  let exit: ProcessExit | null = null;
  let outputClosed = false;
  // Random, so that no program can print it and end its own output early.
  const mark = `\u001b]encsup-end-${randomBytes(12).toString('hex')}\u0007`;
  let carry = '';
  let markWrite: 'none' | 'under way' | 'done' = 'none';
  let timer: NodeJS.Timeout | null = null;
  // The program's side, held here until its output has been read to the mark.
  let holder: number | null = null;
  // Its output, once the terminal is open.
  let reading: PacedReads<ReadStream> | null = null;

  const deliver = (text: string) => {
    if (text !== '') for (const listener of dataListeners) listener(text);
  };
  const env = { ...options.env, PWD: options.cwd, TERM: TERMINAL_NAME };
  const onExit = (ended: ProcessExit) => {
    exit = ended;
    // Its last output, and the mark after it, are read as they come: a paused reading would hold them.
    reading?.readFreely();
    if (outputClosed) return finish();
    timer = setTimeout(finish, MARK_WAIT_MS);
    if (holder === null) return;
    // From the file system's threads: a terminal whose queue is full blocks the write until this
    // thread has read it, and this thread must go on reading.
    markWrite = 'under way';
    write(holder, mark, (error) => {
      markWrite = 'done';
      if (error) finish();
      // Closed only now: a number closed under a write not yet made could be reused by a file it
      // would then be written to.
      if (told !== null) release();
    });
  };
  const term = nativeProcesses ? startWithPosixSpawn(nativeProcesses, file, args, { ...options, env }, onExit) : startWithNodePty(file, args, { ...options, env }, onExit);
  holder = term.holder;
  reading = readPaced((socketOptions) => new ReadStream(term.master, socketOptions), (text) => {
    if (markWrite === 'none') return deliver(text);
    const seen = carry + text;
    const at = seen.indexOf(mark);
    if (at >= 0) {
      carry = '';
      deliver(seen.slice(0, at));
      return finish();
    }
    // A mark may be cut between two reads: its first characters wait for the next.
    const keep = Math.min(seen.length, mark.length - 1);
    carry = seen.slice(seen.length - keep);
    deliver(seen.slice(0, seen.length - keep));
  });
  const output = reading.socket;
  // EIO once nothing holds the program's side (without a holder, when the program has gone).
  const closed = () => {
    outputClosed = true;
    if (exit !== null) finish();
  };
  output.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EAGAIN') closed();
  });
  output.on('close', closed);

  function release(): void {
    if (holder === null) return;
    closeSync(holder);
    holder = null;
  }

  function finish(): void {
    if (told !== null || exit === null) return;
    told = exit;
    if (timer) clearTimeout(timer);
    deliver(carry);
    carry = '';
    output.removeAllListeners('data');
    output.destroy();
    if (markWrite !== 'under way') release();
    for (const listener of exitListeners) listener(told);
  }

  return {
    pid: term.pid,
    onData: (listener) => void dataListeners.push(listener),
    onExit: (listener) => {
      if (told !== null) listener(told);
      else exitListeners.push(listener);
    },
  };
};
