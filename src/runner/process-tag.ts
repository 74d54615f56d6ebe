// Every process of a job's run carries a tag in its environment (ENCSUP_RUN=<folder>/<job>/<attempt>),
// set by the daemon at the spawn and inherited by whatever the encoder starts: a shell's children,
// a wrapper that daemonizes, a grandchild that calls setsid and leaves the process group. The tag
// is read back from /proc/<pid>/environ (the environment a process was started with), so a run's
// processes are found wherever they went, and a crash before the pid was stored loses nothing.
// What it cannot find: a process that clears its environment and leaves the group (README).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { processStartTicks } from './process-identity.js';

export const RUN_TAG_VARIABLE = 'ENCSUP_RUN';

/** Which data folder's daemon started a process: a short hash of the folder's real path. */
export function folderTag(dataDir: string): string {
  let path = dataDir;
  try {
    path = realpathSync(dataDir);
  } catch {
    // Not there yet: the path as given.
  }
  return createHash('sha256').update(path).digest('hex').slice(0, 12);
}

export function runTag(folder: string, jobId: string, attempt: number): string {
  return `${folder}/${jobId}/${attempt}`;
}

export interface TaggedProcess {
  pid: number;
  startTicks: number | null;
  tag: string;
}

const NEEDLE = Buffer.from(`\0${RUN_TAG_VARIABLE}=`);

/**
 * The processes (of this user: others' environ can't be read) whose tag matches. With `newerThan`
 * (a run's leader), only processes started after it are read: every process of a run is, and on
 * a busy box that is a handful instead of every process there is.
 */
export function taggedProcesses(matches: (tag: string) => boolean, newerThan?: number): TaggedProcess[] {
  const found: TaggedProcess[] = [];
  const last = newerThan === undefined ? null : lastPid();
  // Few pids handed out since the leader (a short job's run, most runs' ends): those numbers are
  // read, not the listing of every process on the box.
  const few = newerThan !== undefined && last !== null ? pidsBetween(newerThan, last, FEW_PIDS) : null;
  let pids: Iterable<number>;
  if (few !== null) pids = few;
  else {
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return found;
    }
    const isCandidate = newerThan === undefined ? () => true : startedAfter(newerThan, last);
    pids = entries.filter((entry) => /^\d+$/.test(entry)).map(Number).filter(isCandidate);
  }
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const tag = tagOf(pid);
    // A number read directly may be a thread's (threads take pids too): its process is the one.
    if (tag !== null && matches(tag) && (few === null || isProcess(pid))) found.push({ pid, startTicks: processStartTicks(pid), tag });
  }
  return found;
}

const FEW_PIDS = 64;

/** The pids after `leader` up to `last`, when there are at most `limit` (and no wrap past pid_max). */
export function pidsBetween(leader: number, last: number, limit: number): number[] | null {
  if (last < leader || last - leader > limit) return null;
  return Array.from({ length: last - leader }, (_, at) => leader + 1 + at);
}

const TGID = /^Tgid:\s*(\d+)$/m;

/** Whether a pid is a process (a thread group's leader), not another thread of one. */
function isProcess(pid: number): boolean {
  try {
    return TGID.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] === String(pid);
  } catch {
    return false;
  }
}

/** The pid the kernel handed out last (the last field of /proc/loadavg); null where unknown. */
function lastPid(): number | null {
  try {
    const last = Number(readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).at(-1));
    return Number.isInteger(last) && last > 0 ? last : null;
  } catch {
    return null;
  }
}

/**
 * Pids are handed out in a cycle: those started after `leader` are the ones from just after it
 * up to the last one handed out, wrapping past pid_max to the low numbers.
 */
export function startedAfter(leader: number, last: number | null): (pid: number) => boolean {
  if (last === null) return () => true;
  return last >= leader ? (pid) => pid > leader && pid <= last : (pid) => pid > leader || pid <= last;
}

function tagOf(pid: number): string | null {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  }
  // Searched in the bytes, with a NUL before it so that FOO_ENCSUP_RUN= never matches.
  const padded = Buffer.concat([Buffer.from([0]), environ]);
  const at = padded.indexOf(NEEDLE);
  if (at < 0) return null;
  const start = at + NEEDLE.length;
  const end = padded.indexOf(0, start);
  return padded.subarray(start, end < 0 ? padded.length : end).toString();
}

/**
 * Ends every process whose tag matches: TERM, then KILL after the grace period, then waits until
 * they are gone. Each is signalled only while it is still the process that was found (its start
 * time), so a reused pid is never touched. Returns the processes it found.
 */
export async function endTagged(matches: (tag: string) => boolean, graceMs: number, newerThan?: number): Promise<TaggedProcess[]> {
  const ended: TaggedProcess[] = [];
  // A process may start another while it is being ended; that one carries the tag too. A few
  // rounds catch them; a process that forks faster than it can be killed is KILLed in the last.
  for (let round = 0; round < 3; round++) {
    const found = taggedProcesses(matches, newerThan).filter((each) => !isZombie(each.pid));
    if (found.length === 0) break;
    ended.push(...found);
    const alive = () => found.filter((each) => each.startTicks !== null && processStartTicks(each.pid) === each.startTicks && !isZombie(each.pid));
    for (const each of alive()) signal(each.pid, round === 2 ? 'SIGKILL' : 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (alive().length > 0 && Date.now() < deadline) await pause(25);
    for (const each of alive()) signal(each.pid, 'SIGKILL');
    const killed = Date.now() + 3000;
    while (alive().length > 0 && Date.now() < killed) await pause(25);
  }
  return ended;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
