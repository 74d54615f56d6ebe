// HandBrakeCLI: the status line `Encoding: task 1 of 2, 45.67 % (41.20 fps, avg 39.80 fps, ETA
// 00h01m23s)` and, with --json, `Progress: {…}` blocks over several lines (libhb/hb_json.c).
// The percent is of the current task (pass): it starts again at 0 for each one.
import type { LineParser, ProgressSample } from '../sample.js';
import { parseNumber } from '../units.js';

const STATUS = /Encoding: task (\d+) of (\d+), (\d+(?:\.\d+)?) %(?: \((\d+(?:\.\d+)?) fps, avg (\d+(?:\.\d+)?) fps, ETA (\d+)h(\d+)m(\d+)s\))?/;

function overall(task: number, tasks: number, taskPercent: number): number {
  return ((task - 1 + taskPercent / 100) / tasks) * 100;
}

export function parseHandbrakeStatus(line: string): ProgressSample | null {
  if (!line.includes('Encoding: task')) return null;
  const match = STATUS.exec(line);
  if (match) {
    const [, task, tasks, percent, fps, , h, m, s] = match;
    return {
      format: 'handbrake',
      percent: overall(Number(task), Number(tasks), Number(percent)),
      fps: parseNumber(fps),
      encoderEtaSeconds: h === undefined ? null : Number(h) * 3600 + Number(m) * 60 + Number(s),
    };
  }
  return null;
}

// An encode slower than one frame per hundred seconds is not what a Rate this small means.
const MIN_PLAUSIBLE_FPS = 0.01;

interface WorkingState {
  State: string;
  Working?: { Progress?: number; Pass?: number; PassCount?: number; Rate?: number; ETASeconds?: number; Hours?: number };
}

// A real block is about 20 lines; anything far longer is not one, and is not held in memory.
const MAX_BLOCK_LINES = 200;

/** Both forms; the JSON block is collected from `Progress: {` to the brace that closes it. */
export function createHandbrakeParser(): LineParser {
  let block: string[] | null = null;
  let depth = 0;
  return (line) => {
    if (block === null) {
      // Outside a block only the status line and a block's start are read.
      if (!line.includes('Progress:')) return parseHandbrakeStatus(line);
      const start = /^\s*Progress:\s*(\{.*)$/.exec(line);
      if (!start) return parseHandbrakeStatus(line);
      block = [];
      depth = 0;
      line = start[1]!;
    }
    block.push(line);
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
    if (depth > 0) {
      if (block.length > MAX_BLOCK_LINES) block = null;
      return null;
    }
    const text = block.join('\n');
    block = null;
    try {
      return fromJson(JSON.parse(text) as WorkingState);
    } catch {
      return null; // a block cut short or not JSON: HandBrake mixes other text into stdout
    }
  };
}

function fromJson(state: WorkingState): ProgressSample | null {
  if (state.State !== 'WORKING' || !state.Working) return null;
  const { Progress = 0, Pass = 1, PassCount = 1, Rate, ETASeconds, Hours } = state.Working;
  return {
    format: 'handbrake',
    percent: overall(Math.max(1, Pass), Math.max(1, PassCount), Progress * 100),
    // Until HandBrake knows its rate it reports Rate 0, ETASeconds 0 and Hours -1: unknown, not 0.
    // Some builds report a Rate far below any frame rate (2.3e-7 was seen): not fps, so unknown.
    fps: Rate !== undefined && Rate >= MIN_PLAUSIBLE_FPS ? Rate : null,
    encoderEtaSeconds: Hours === undefined || Hours < 0 ? null : (ETASeconds ?? null),
  };
}
