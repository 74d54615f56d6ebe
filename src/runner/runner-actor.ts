// The job machine's `runner` actor: probes the input, starts the encoder (the machine invokes it
// once the attempt is durable), feeds its output through the progress pipeline, and reports
// ENCODER_STARTED, ACTIVITY, PROGRESS and ENCODER_EXITED.
import { open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { discardStaged, stagingPath, substituteOutput, writesStaged } from '../media/staged-output.js';
import { share } from '../progress/rx.js';
import { fromCallback } from 'xstate';
import type { GpuDevice } from '../resources/gpu-detect.js';
import type { FailureEvidence } from '../../machines/failure-kinds.js';
import { classifyFailure, mayBeEvidence } from '../failures/classify.js';
import { gpuEnvironment, substituteGpu } from '../resources/gpu-handout.js';
import type { JobEvent, RunnerCommand, RunnerInput } from '../../machines/job-machine.js';
import type { Job, ProgressFields, TerminationReason } from '../../machines/job-record.js';
import { succeeded } from '../../machines/job-updates.js';
import { createParser } from '../progress/parsers/index.js';
import type { KnownTotals } from '../progress/progress-state.js';
import { type ProbedInputs, latestEvery, readProgress, throttleProgress } from '../progress/pipeline.js';
import { inputDurationApplies } from '../media/expected-duration.js';
import { inputsOf } from '../media/probe.js';
import { adjustPlan, planOf } from '../progress/encode-plan.js';
import { splitRecordBatches } from '../progress/lines.js';
import type { ThrottleOptions } from '../progress/throttle.js';
import { type EncoderRun, startEncoder } from './encoder-run.js';
import { activityTellings } from './activity-report.js';
import { JobLogFile } from './job-log.js';
import { LogTail } from './log-tail.js';
import { processStartTicks } from './process-identity.js';
import { runTag } from './process-tag.js';
import type { FaultPoint } from '../deps.js';
import type { ProcessExit, SpawnProcess } from './child-process.js';
import { programKind } from './program-kind.js';
import { programOf, usesTerminal } from './terminal-choice.js';
import type { RunGuard } from '../farm/run-guards.js';

export interface RunnerDeps {
  spawnPty: SpawnProcess;
  spawnPipes: SpawnProcess;
  nowMs: () => number;
  graceMs: number;
  baseEnv: Record<string, string>;
  /** Folder for each job's full output log. */
  logDir: string;
  /** Cap of each job's log file, in bytes. */
  maxLogBytes: number;
  /** false: only the first and the final progress update of a run are stored. */
  trackProgress: boolean;
  /** Store any progress change after this long, however small. */
  heartbeatMs: number;
  onError: (jobId: string, error: unknown) => void;
  /** Every progress change of a running encoder, at most a few times a second. */
  onLive: (live: LiveProgress) => void;
  /** Totals read from the job's input before the encode (ffprobe); null when unknown. */
  probeInputs: (inputs: (string | null)[]) => Promise<Omit<KnownTotals, 'totalFrames'> | null>;
  /** Keep a failed attempt's staged output aside instead of removing it. */
  keepFailedOutputs: boolean;
  /** The data folder's tag (process-tag.ts): with the job and attempt, each run's processes are known. */
  folderTag: string;
  faultPoint: (point: FaultPoint) => void;
  /** What finished jobs of this kind teach about this run, for the plan's pass weights and the ETA. */
  priorFor: (job: Job, mediaSeconds: number | null) => RunPrior;
  /** The GPUs found at start: a job given some gets their environment and `{gpu}` filled in. */
  gpuDevices: readonly GpuDevice[];
  /** The kernel's out-of-memory kills in the daemon's cgroup so far (null: unknown). */
  oomKills: () => Promise<number | null>;
  /** Free bytes on the filesystem that holds this path (null: unknown). */
  freeBytes: (path: string) => Promise<number | null>;
  /** In a farm: a guard outside the daemon that ends the run if the job's lease is not renewed. */
  guardRun?: (job: Job, tag: string) => RunGuard;
}

export interface RunPrior {
  expectedRunSeconds: number | null;
  /** The share of the run the first pass takes, for jobs of several passes. */
  firstPassShare: number | null;
}

const EVIDENCE_LINES = 20;
// Live views need no more than a few frames a second.
const LIVE_EVERY_MS = 250;

/** A run's progress as it is now, for the views: not stored, not announced as a lifecycle event. */
export interface LiveProgress {
  jobId: string;
  at: string;
  progress: ProgressFields;
  /** Seconds of this attempt's run so far. */
  runSeconds: number;
}

export function jobLogPath(logDir: string, jobId: string): string {
  return join(logDir, `${jobId}.log`);
}

/** Live encoder runs, so a shutdown can wait until every one has exited. */
export class LiveRuns {
  readonly #runs = new Set<EncoderRun>();
  add(run: EncoderRun): void {
    this.#runs.add(run);
    void run.settled.then(() => this.#runs.delete(run));
  }
  async whenAllExited(): Promise<void> {
    await Promise.all([...this.#runs].map((run) => run.settled));
  }
  get count(): number {
    return this.#runs.size;
  }
}

export function createRunnerActor(deps: RunnerDeps, live: LiveRuns) {
  return fromCallback<RunnerCommand, RunnerInput>(({ input, sendBack, receive }) => {
    const send = (event: JobEvent) => sendBack(event);
    let run: EncoderRun | null = null;

    receive((command) => {
      // The encoder starts as the actor does; with none (it could not start), nothing to end.
      if (run) void run.terminate(command.reason);
    });

    // The encoder starts at once. ffprobe reads the inputs only when the encoder's own output does
    // not give a percent (ffmpeg's `Duration:` header usually does; `-loglevel error` hides it),
    // alongside the encoder, not before it: a probe costs a few hundred milliseconds of a box's
    // CPU, and a short encode not much more. Its lengths join the progress when they come.
    const commandPlan = planOf(input.job.command, input.job.shell);
    const prior = deps.priorFor(input.job, input.job.expectedDurationSeconds);
    const plan = adjustPlan(commandPlan, input.job.declaredPasses, prior.firstPassShare);
    const probe = (): Promise<ProbedInputs> =>
      deps
        .probeInputs(inputsOf(commandPlan.inputs, input.job.cwd))
        .then((totals) => {
          const inputs = totals?.inputDurations ?? (totals?.durationSeconds != null ? [totals.durationSeconds] : []);
          const mediaSeconds = inputs.length > 0 ? commandPlan.outputDuration(inputs) : null;
          return { totals, expectedRunSeconds: mediaSeconds === null ? null : deps.priorFor(input.job, mediaSeconds).expectedRunSeconds };
        })
        // A probe that fails leaves the progress to the encoder's own output, as if there were none.
        .catch((error: unknown) => {
          deps.onError(input.job.id, error);
          return { totals: null, expectedRunSeconds: null };
        });
    try {
      run = launch(input, { totalFrames: input.job.totalFrames, plan }, { expectedRunSeconds: prior.expectedRunSeconds, probe: input.job.totalFrames === null ? probe : undefined }, deps, send);
      live.add(run);
    } catch (error) {
      deps.onError(input.job.id, error);
      // Told on the next turn, as an exit is: the machine is still entering the state that started it.
      queueMicrotask(() =>
        send({
          type: 'ENCODER_EXITED',
          outcome: {
            exitCode: null,
            signal: null,
            logTail: [`encsup could not start the encoder: ${String(error)}`],
            runSeconds: 0,
            at: isoNow(deps),
            startError: error instanceof Error ? error.message : String(error),
          },
        }),
      );
    }

    return () => {
      // Leaving the running state for any reason ends the encoder: one job, at most one encoder.
      if (run) void run.terminate(run.terminationReason ?? 'cancel');
    };
  });
}

function launch(
  { job, progressThreshold }: RunnerInput,
  known: KnownTotals,
  expected: { expectedRunSeconds: number | null; probe: (() => Promise<ProbedInputs>) | undefined },
  deps: RunnerDeps,
  send: (event: JobEvent) => void,
): EncoderRun {
  // With progress tracking off, only the first and the final update are stored.
  const throttle: ThrottleOptions = deps.trackProgress ? { progressThreshold, heartbeatMs: deps.heartbeatMs } : { progressThreshold: Infinity, heartbeatMs: Infinity };
  const startMs = deps.nowMs();
  // The attempt is durable before this spawn (the machine persists it first), so its tag is known
  // to a daemon that starts after a crash here, even if the pid below never gets stored.
  // A command that writes to {output} writes to this attempt's staging name instead.
  const staged = writesStaged(job);
  const gpus = job.gpus ?? [];
  const command = substituteGpu(staged ? substituteOutput(job.command, job.shell, stagingPath(job)) : job.command, gpus, deps.gpuDevices);
  // The devices handed out last: a job's own CUDA_VISIBLE_DEVICES cannot take another job's GPU.
  const tag = runTag(deps.folderTag, job.id, job.attempts);
  // The guard first: there is no moment at which the encoder runs unguarded.
  const guard = deps.guardRun?.(job, tag) ?? null;
  let run: EncoderRun;
  try {
    run = startEncoder({ ...job, command, env: { ...job.env, ...gpuEnvironment(gpus, deps.gpuDevices) } }, { spawn: spawnerFor(job, deps), graceMs: deps.graceMs, baseEnv: deps.baseEnv, tag });
  } catch (error) {
    guard?.release();
    throw error;
  }
  void run.settled.then(() => guard?.release());
  deps.faultPoint('after-spawn');
  const oomKillsBefore = deps.oomKills();
  send({ type: 'ENCODER_STARTED', pid: run.pid, pidStartTicks: processStartTicks(run.pid), at: isoNow(deps) });
  const tail = new LogTail();
  const log = new JobLogFile(jobLogPath(deps.logDir, job.id), deps.maxLogBytes, (error) => deps.onError(job.id, error));
  const durationApplies = inputDurationApplies(job.command);
  const batches = run.chunks.pipe(splitRecordBatches(), share());
  batches.subscribe((batch) => {
    log.writeLines(batch);
    for (const line of batch) tail.push(line);
  });
  activityTellings(batches, job.stallTimeoutSec, startMs, deps.nowMs)?.subscribe({ next: () => send({ type: 'ACTIVITY' }), error: () => undefined });
  const updates = batches.pipe(
    readProgress({ parse: createParser({ parser: job.parser ?? 'auto', pattern: job.pattern }), known, nowMs: deps.nowMs, startMs, expectedRunSeconds: expected.expectedRunSeconds, ...(expected.probe ? { probe: expected.probe } : {}) }),
    share(),
  );
  // Live, not durable: every change of frame, fps, speed and ETA, a few times a second, for the
  // views; only the throttled updates below become store writes.
  updates.pipe(latestEvery(LIVE_EVERY_MS, deps.nowMs)).subscribe({
    next: (update) => deps.onLive({ jobId: job.id, at: isoNow(deps), progress: update.fields, runSeconds: update.runSeconds }),
    error: () => undefined,
  });
  // The exit is told after the last progress update, which may wait for an input probe under way.
  let progressRead!: () => void;
  const progressDone = new Promise<void>((resolve) => (progressRead = resolve));
  updates
    .pipe(throttleProgress(throttle, deps.nowMs))
    .subscribe({
      complete: () => progressRead(),
      next: (update) =>
        send({
          type: 'PROGRESS',
          progress: update.fields,
          runSeconds: update.runSeconds,
          expectedDurationSeconds: durationApplies ? update.detail.durationSeconds : null,
          mediaSeconds: update.detail.durationSeconds,
          passStartSeconds: update.passStartSeconds,
        }),
      error: (error: unknown) => {
        deps.onError(job.id, error);
        progressRead();
      },
    });
  void run.settled.then(async (exit) => {
    await progressDone;
    const logWritten = log.end();
    const failed = !succeeded(exit, run.terminationReason);
    // A failed attempt's staged output goes (or aside); one written in place is reported.
    let partialOutput: { path: string; bytes: number } | null = null;
    if (failed && staged) await discardStaged(job, deps.keepFailedOutputs).catch((error: unknown) => deps.onError(job.id, error));
    else if (failed && job.output !== null) partialOutput = await stat(job.output).then((info) => ({ path: job.output!, bytes: info.size }), () => null);
    // Lines that may say why it failed, from the log, past the tail (a help page after a bad
    // option): read only when it failed, not matched against every line while it ran.
    const evidence = failed ? await logWritten.then(() => evidenceLines(jobLogPath(deps.logDir, job.id), log.written), () => []) : [];
    const failure = failed ? await classifyExit(job, exit, run.terminationReason, [...evidence, ...tail.lines()], oomKillsBefore, deps) : null;
    send({
      type: 'ENCODER_EXITED',
      outcome: { ...exit, logTail: tail.lines(), runSeconds: (deps.nowMs() - startMs) / 1000, at: isoNow(deps), partialOutput, failure },
    });
  });
  return run;
}

/** A pty, or plain pipes where the job needs no terminal (terminal-choice.ts). */
function spawnerFor(job: Job, deps: RunnerDeps): SpawnProcess {
  const searchPath = job.env['PATH'] ?? deps.baseEnv['PATH'] ?? '';
  return usesTerminal(job, (program) => programKind(program, job.cwd, searchPath)) ? deps.spawnPty : deps.spawnPipes;
}

// How much of the end of a failed run's log is searched for evidence, and how many lines are kept.
const EVIDENCE_BYTES = 1024 * 1024;

/** The last lines of this run's part of the log that may be a failure's evidence. */
async function evidenceLines(path: string, runBytes: number): Promise<string[]> {
  const handle = await open(path, 'r').catch(() => null);
  if (handle === null) return [];
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, runBytes, EVIDENCE_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').filter(mayBeEvidence).slice(-EVIDENCE_LINES);
  } finally {
    await handle.close();
  }
}

/** What kind of failure a run was, from how it ended, what it printed and the state of the box. */
async function classifyExit(job: Job, exit: ProcessExit, terminationReason: TerminationReason | null, lines: string[], oomKillsBefore: Promise<number | null>, deps: RunnerDeps): Promise<FailureEvidence> {
  const [before, after, free] = await Promise.all([oomKillsBefore, deps.oomKills(), job.output === null ? null : deps.freeBytes(dirname(job.output))]);
  return classifyFailure({
    exitCode: exit.exitCode,
    signal: exit.signal,
    terminationReason,
    lines,
    command: job.shell ? job.command.join(' ').split(/\s+/) : job.command,
    output: job.output,
    cwd: job.cwd,
    oomKilled: before !== null && after !== null && after > before,
    outputFreeBytes: free,
  });
}

function isoNow(deps: Pick<RunnerDeps, 'nowMs'>): string {
  return new Date(deps.nowMs()).toISOString();
}
