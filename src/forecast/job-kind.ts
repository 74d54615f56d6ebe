// Which jobs are alike for learning how long they take: the program, the video codec and its
// preset, and the output size where the command sets one. The length of the media is left out on
// purpose: speeds are learned per second of media, so a 10 s clip teaches about a 2 h film of the
// same kind. Pure: a command in, a short key out.
import { basename } from 'node:path';
import { planOf, shellCommands } from '../progress/encode-plan.js';

const CODEC_FLAGS = new Set(['-c:v', '-vcodec', '-codec:v', '-e', '--encoder']);
const PRESET_FLAGS = new Set(['-preset', '--preset', '-Z', '--preset-name', '-cpu-used', '--cpu-used', '--speed', '-s:preset']);

export function jobKind(command: readonly string[], shell: boolean): string {
  const runs = shell ? shellCommands(command.join(' ')) : [[...command]];
  const plan = planOf(command, shell);
  // The encoder run that makes the output is the last one (a first pass writes nothing).
  const argv = runs.findLast((run) => encoderLike(run)) ?? runs.at(-1) ?? [];
  const program = basename(argv[0] ?? '') || 'unknown';
  const codec = valueAfter(argv, CODEC_FLAGS) ?? (/^(x264|x265|SvtAv1EncApp|rav1e|aomenc|vpxenc)/i.test(program) ? program : null);
  const preset = valueAfter(argv, PRESET_FLAGS);
  const size = outputSize(argv);
  return [program, codec ?? '-', preset ?? '-', size ?? '-', plan.passes > 1 ? `${plan.passes}pass` : '1pass'].map((part) => part.slice(0, 40)).join(' ');
}

function encoderLike(argv: readonly string[]): boolean {
  return /^(ffmpeg|x26[45]|SvtAv1EncApp|HandBrakeCLI|rav1e|aomenc|vpxenc|python|blender)/i.test(basename(argv[0] ?? ''));
}

function valueAfter(argv: readonly string[], flags: ReadonlySet<string>): string | null {
  for (let i = argv.length - 2; i >= 1; i--) if (flags.has(argv[i]!)) return argv[i + 1]!;
  return null;
}

/** Output height from -s WxH, a scale filter, HandBrake's -l/--height, x264's --vf resize; else null. */
function outputSize(argv: readonly string[]): string | null {
  const size = valueAfter(argv, new Set(['-s', '-s:v', '--input-res']));
  const fromSize = size ? /^\d+x(\d+)$/.exec(size)?.[1] : undefined;
  if (fromSize) return `${fromSize}p`;
  const height = valueAfter(argv, new Set(['-l', '--height', '--maxHeight', '-Y']));
  if (height && /^\d+$/.test(height)) return `${height}p`;
  for (const arg of argv) {
    const scale = /\bscale=(?:w=)?(-?\d+)[:x](?:h=)?(-?\d+)/.exec(arg);
    if (scale) return Number(scale[2]) > 0 ? `${scale[2]}p` : `${scale[1]}w`;
  }
  return null;
}
