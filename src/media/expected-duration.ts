// When the input's duration is also what the output should last: an ffmpeg command that neither
// trims nor retimes. Anything else (a -t, a trim or setpts filter, another encoder) gives no
// expectation, so validation never fails a correct output on a guess.
import { basename } from 'node:path';

const CHANGES_DURATION = new Set(['-t', '-to', '-ss', '-sseof', '-frames', '-vframes', '-aframes', '-shortest', '-stream_loop', '-itsoffset']);

export function inputDurationApplies(command: readonly string[]): boolean {
  if (!/ffmpeg/.test(basename(command[0] ?? ''))) return false;
  return !command.some(
    (arg) => CHANGES_DURATION.has(arg) || /^-(frames|t|to):/.test(arg) || /\b(trim|atrim|setpts|atempo|concat|select|loop)\b/.test(arg),
  );
}
