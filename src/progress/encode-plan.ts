// What a command will encode, read from its arguments before it runs: how many encoder passes it
// makes (two ffmpeg runs joined by `&&`, x264/x265 `--pass`, SVT-AV1 `--passes 2`), what share of
// the job each pass is, and how long the output will be given the inputs' lengths (input and
// output -ss/-t/-to, -frames, setpts, concat of several inputs) and at what frame rate (-r, fps=).
// Pure: a command in, a plan out.
import { basename } from 'node:path';
import { parseClock } from './units.js';

export interface EncodePlan {
  /** Encoder runs (or passes of one run) the job makes, in order; 1 for most jobs. */
  passes: number;
  /** Share of the whole job each pass takes; sums to 1. */
  passWeights: number[];
  /** The output's length from the inputs' lengths (in input order); null when it can't be known. */
  outputDuration(inputs: readonly (number | null)[]): number | null;
  /** An output frame cap (-frames:v, -vframes); null for none. */
  maxFrames: number | null;
  /** The output's frame rate where the command sets one (-r after the inputs, fps=); else the input's. */
  outputFrameRate: number | null;
  /**
   * True when frames can't be counted ahead (a select, a retime whose frames pass through as they
   * are): percent is output time over output length. Otherwise frames over the output's frames,
   * which, unlike the time ffmpeg prints, does not lag behind by the muxer's delay.
   */
  timeBasis: boolean;
  /** True when the output's frame count can't be read from the command (select drops frames). */
  framesUnknown: boolean;
  /** The `-i` / `--input` arguments of the last encoder run, in order, as written. */
  inputs: string[];
}

// A first pass analyses and writes nothing: it usually takes about half as long as a later one.
const FIRST_PASS_WEIGHT = 0.5;

export function planOf(command: readonly string[], shell: boolean): EncodePlan {
  const runs = (shell ? shellCommands(command.join(' ')) : [[...command]]).filter((argv) => encoderOf(argv) !== null);
  const last = runs.at(-1) ?? [...command];
  const ffmpeg = encoderOf(last) === 'ffmpeg' ? readFfmpeg(last) : null;
  const passes = Math.max(runs.length, ...runs.map(internalPasses));
  return {
    passes,
    passWeights: defaultPassWeights(passes),
    outputDuration: ffmpeg ? ffmpeg.outputDuration : (inputs) => inputs[0] ?? null,
    maxFrames: ffmpeg?.maxFrames ?? null,
    outputFrameRate: ffmpeg?.outputFrameRate ?? null,
    timeBasis: ffmpeg?.timeBasis ?? false,
    framesUnknown: ffmpeg?.framesUnknown ?? false,
    inputs: last.flatMap((arg, index) => ((arg === '-i' || arg === '--input') && last[index + 1] !== undefined ? [last[index + 1]!] : [])),
  };
}

function defaultPassWeights(passes: number): number[] {
  const raw = Array.from({ length: passes }, (_, index) => (index === 0 && passes > 1 ? FIRST_PASS_WEIGHT : 1));
  const sum = raw.reduce((total, weight) => total + weight, 0);
  return raw.map((weight) => weight / sum);
}

/**
 * The plan as the job and its history say: a job's own `passes` wins over what the command shows,
 * and a first pass's share learned from this kind of job wins over the default guess.
 */
export function adjustPlan(plan: EncodePlan, declaredPasses: number | null, firstPassShare: number | null): EncodePlan {
  const passes = declaredPasses ?? plan.passes;
  if (passes <= 1) return { ...plan, passes: 1, passWeights: [1] };
  if (firstPassShare === null || !(firstPassShare > 0 && firstPassShare < 1)) return { ...plan, passes, passWeights: passes === plan.passes ? plan.passWeights : defaultPassWeights(passes) };
  const rest = (1 - firstPassShare) / (passes - 1);
  return { ...plan, passes, passWeights: [firstPassShare, ...Array.from({ length: passes - 1 }, () => rest)] };
}

type Encoder = 'ffmpeg' | 'x264' | 'x265' | 'svtav1' | 'other';

function encoderOf(argv: readonly string[]): Encoder | null {
  const program = basename(argv[0] ?? '');
  if (/^ffmpeg/.test(program)) return 'ffmpeg';
  if (/^x264/.test(program)) return 'x264';
  if (/^x265/.test(program)) return 'x265';
  if (/^SvtAv1EncApp/i.test(program)) return 'svtav1';
  return argv.length > 0 && /^(HandBrakeCLI|rav1e|aomenc|vpxenc)/.test(program) ? 'other' : null;
}

/** SVT-AV1 runs several passes in one process with `--passes N`. */
function internalPasses(argv: readonly string[]): number {
  const at = argv.indexOf('--passes');
  const count = at >= 0 ? Number(argv[at + 1]) : 1;
  return Number.isInteger(count) && count > 1 ? count : 1;
}

interface InputTrim {
  ss: number | null;
  t: number | null;
  to: number | null;
}

function readFfmpeg(argv: readonly string[]) {
  const inputs: InputTrim[] = [];
  let pending: InputTrim = { ss: null, t: null, to: null };
  const output: InputTrim = { ss: null, t: null, to: null };
  let maxFrames: number | null = null;
  let outputFrameRate: number | null = null;
  let framesUnknown = false;
  let setpts = 1;
  let passthrough = false;
  let filterTrim: InputTrim | null = null;
  let concatInputs: number | null = null;
  let unknowable = false;
  const filters: string[] = [];
  // Options before an `-i` belong to that input; after the last one, to the output.
  const lastInput = argv.lastIndexOf('-i');
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    const target = i < lastInput ? pending : output;
    if (arg === '-i') {
      inputs.push(pending);
      pending = { ss: null, t: null, to: null };
      i++;
    } else if (arg === '-ss' || arg === '-t' || arg === '-to') {
      target[arg.slice(1) as keyof InputTrim] = parseClock(value);
      i++;
    } else if ((arg === '-r' || arg === '-r:v') && i > lastInput) {
      outputFrameRate = frameRateOf(value);
      i++;
    } else if (arg === '-frames:v' || arg === '-vframes' || arg === '-frames') {
      maxFrames = Number(value) || null;
      i++;
    } else if (arg === '-vf' || arg === '-filter:v' || arg === '-filter_complex' || arg === '-lavfi' || arg === '-af' || arg === '-filter:a') {
      filters.push(value ?? '');
      i++;
    } else if (arg === '-vsync' || arg === '-fps_mode' || arg.startsWith('-fps_mode:')) {
      passthrough = /^(0|2|passthrough|vfr|drop)$/.test(value ?? '');
      i++;
    } else if (arg === '-stream_loop' || arg === '-sseof') {
      unknowable = true;
      i++;
    }
  }
  for (const graph of filters) {
    const pts = /setpts=\s*(?:(\d+(?:\.\d+)?)\s*\*\s*PTS|PTS\s*\/\s*(\d+(?:\.\d+)?)|PTS\s*\*\s*(\d+(?:\.\d+)?))/i.exec(graph);
    if (pts) setpts *= pts[1] ? Number(pts[1]) : pts[2] ? 1 / Number(pts[2]) : Number(pts[3]);
    // A shift to start at 0 keeps the rate; numbering frames anew keeps it too, unless a select
    // dropped some first. Any other expression is not read.
    else if (/setpts=/i.test(graph) && !/setpts=['"]?(?:PTS-STARTPTS|N\/(?:FRAME_RATE|FR)\/TB)\b/i.test(graph)) unknowable = true;
    if (/setpts=['"]?N\//i.test(graph) && /\bselect\b/.test(graph)) unknowable = true;
    const concat = /\bconcat=(?:n=)?(\d+)/.exec(graph);
    if (concat) concatInputs = Number(concat[1]);
    else if (/\bconcat\b/.test(graph)) concatInputs = inputs.length;
    const fps = /\bfps=(?:fps=)?([\d.]+(?:\/[\d.]+)?)/.exec(graph);
    if (fps) outputFrameRate = frameRateOf(fps[1]);
    // Which frames a select keeps can't be read from the command; left alone, their timestamps
    // still tell how far into the input the encode is.
    if (/\b(select|aselect)\b/.test(graph)) framesUnknown = true;
    // A trim in seconds is read (`trim=2:8`, `trim=start=2:duration=6`); one in frames or
    // samples, or a loop, is not.
    const trims = [...graph.matchAll(/\b(a?trim)=([^,;[\]]*)/g)];
    if (trims.length > 0) {
      const kept = trims.map((match) => trimOf(match[2]!));
      if (kept.some((each) => each === null) || new Set(kept.map((each) => JSON.stringify(each))).size > 1) unknowable = true;
      else filterTrim = kept[0]!;
    } else if (/\b(a?trim)\b/.test(graph)) unknowable = true;
    if (/\bloop\b/.test(graph)) unknowable = true;
  }
  // A retime whose frames pass through unchanged keeps every input frame in a shorter output.
  const timeBasis = framesUnknown || (setpts !== 1 && passthrough);
  const outputDuration = (lengths: readonly (number | null)[]): number | null => {
    if (unknowable) return null;
    const trimmed = inputs.map((input, index) => trimmedLength(lengths[index] ?? null, input));
    const used = concatInputs !== null ? trimmed.slice(0, concatInputs) : trimmed.slice(0, 1);
    if (used.length === 0 || used.some((each) => each === null)) return null;
    let length = used.reduce<number>((total, each) => total + each!, 0);
    if (filterTrim !== null) {
      const trimmed = trimmedLength(length, filterTrim);
      if (trimmed === null) return null;
      length = trimmed;
    }
    length *= setpts;
    if (output.ss !== null) length -= output.ss;
    if (output.to !== null) length = Math.min(length, output.to - (output.ss ?? 0));
    if (output.t !== null) length = Math.min(length, output.t);
    return length > 0 ? length : null;
  };
  return { outputDuration, maxFrames, outputFrameRate, timeBasis, framesUnknown };
}

/** `trim=2:8`, `trim=start=2:end=8`, `trim=duration=5`: seconds kept, as an input's own -ss/-to/-t; null for frames or samples. */
function trimOf(options: string): InputTrim | null {
  const trim: InputTrim = { ss: null, t: null, to: null };
  const positional: (keyof InputTrim)[] = ['ss', 'to'];
  const named: Record<string, keyof InputTrim> = { start: 'ss', starti: 'ss', end: 'to', endi: 'to', duration: 't', durationi: 't' };
  const parts = options.replace(/^['"]|['"]$/g, '').split(':').filter((part) => part !== '');
  for (const [index, part] of parts.entries()) {
    const [key, value] = part.includes('=') ? part.split('=', 2) : [undefined, part];
    const field = key === undefined ? positional[index] : named[key];
    const seconds = parseClock(value);
    if (field === undefined || seconds === null) return null;
    trim[field] = seconds;
  }
  return trim;
}

/** `-r 30`, `-r 30000/1001`, `fps=25`: frames per second, or null for anything else (ntsc, a typo). */
function frameRateOf(value: string | undefined): number | null {
  const [num, den] = (value ?? '').split('/').map(Number);
  const rate = den === undefined ? num! : num! / den;
  return Number.isFinite(rate) && rate > 0 && rate <= 1000 ? rate : null;
}

/** An input's length once its own -ss/-t/-to are applied (`-to` is a position in the input). */
function trimmedLength(length: number | null, trim: InputTrim): number | null {
  let end = length;
  if (trim.to !== null) end = end === null ? trim.to : Math.min(end, trim.to);
  if (end === null) return trim.t;
  let result = end - (trim.ss ?? 0);
  if (trim.t !== null) result = Math.min(result, trim.t);
  return result > 0 ? result : null;
}

/** The commands of a shell line joined by `&&`, `||` or `;`, each split into words as sh would. */
export function shellCommands(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  const end = () => {
    if (word !== null) commands.at(-1)!.push(word);
    word = null;
  };
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = null;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) word += line[++i]!;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= '';
    } else if (char === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i]!;
    } else if (/\s/.test(char)) {
      end();
    } else if (char === ';' || char === '&' || char === '|') {
      end();
      while (line[i + 1] === '&' || line[i + 1] === '|') i++;
      commands.push([]);
    } else {
      word = (word ?? '') + char;
    }
  }
  end();
  return commands.filter((argv) => argv.length > 0);
}
