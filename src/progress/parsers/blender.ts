// Blender's render status lines.
import type { ProgressSample } from '../sample.js';
import { parseEta } from '../units.js';

// Blender: `Fra:2 … | Time:00:03.01 | Remaining:00:13.01 | … | Sample 768/4096`, EEVEE's
// `Rendering 17 / 64 samples`, and Cycles with tiles, where `Sample a/b` is per tile and the tile
// count is the frame's progress. BVH object counters (`Cylinder 15/15`) and `Building BVH 0%`
// are scene preparation, not render progress.
const BLENDER_FRAME = /^\s*Fra:\s*(\d+) Mem:/;
const TILES = /Tile (\d+)\/(\d+)/;
const SAMPLES = /\|\s*(?:Sample (\d+)\/(\d+)|Rendering (\d+) \/ (\d+) samples)\s*$/;

export function mayBeBlenderLine(line: string): boolean {
  return line.includes('Fra:');
}

export function parseBlender(line: string): ProgressSample | null {
  const frame = BLENDER_FRAME.exec(line);
  if (!frame) return null;
  const tiles = TILES.exec(line);
  const samples = SAMPLES.exec(line);
  const [done, of] = tiles ? [tiles[1], tiles[2]] : samples ? [samples[1] ?? samples[3], samples[2] ?? samples[4]] : [undefined, undefined];
  return {
    format: 'blender',
    frame: Number(frame[1]),
    step: done === undefined ? null : Number(done),
    totalSteps: of === undefined ? null : Number(of),
    encoderEtaSeconds: parseEta(/Remaining:([\d:.]+)/.exec(line)?.[1]),
    level: 'inner',
  };
}
