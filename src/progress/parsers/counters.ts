// Step and frame counters of render scripts: `Step 5/50`, `Rendering animation frame 12 of 120`,
// `Animation frame: 12/120`, `frame 12/120`, gifski's `Frame 663 / 705 ####… 41s`. Only a
// counter named step or frame counts: `Cylinder 15/15` (Blender's BVH objects) does not.
import type { ProgressSample } from '../sample.js';
import { parseEta } from '../units.js';

// `\s*(?::\s*)?` rather than `\s*:?\s*`: two runs of spaces that can split one run many ways are
// quadratic on a long line of spaces. Likewise the lookbehind on the gifski bar's first `#`.
const COUNTER = /\b(step|(?:rendering )?(?:animation )?frame)s?\s*(?::\s*)?(\d+)\s*(?:\/|of)\s*(\d+)\b/i;
const GIFSKI_ETA = /(?<![#_.])#[#_.]*\s+(\d+[hms])\b/;

const STEP_OR_FRAME = /step|frame/i;

export function mayBeCounterLine(line: string): boolean {
  return STEP_OR_FRAME.test(line);
}

export function parseCounter(line: string): ProgressSample | null {
  const match = COUNTER.exec(line);
  if (!match) return null;
  const [, kind, current, total] = match;
  const isFrame = /frame/i.test(kind!);
  const n = Number(current);
  const of = Number(total);
  if (of === 0 || n > of) return null;
  return {
    format: 'steps',
    ...(isFrame ? { frame: n, totalFrames: of } : { step: n, totalSteps: of }),
    percent: (n / of) * 100,
    encoderEtaSeconds: parseEta(GIFSKI_ETA.exec(line)?.[1]),
    // A frame counter is what a render script is for; a step counter may be one frame's steps.
    level: isFrame ? 'outer' : 'inner',
  };
}
