// Real encodes for the tests: ffmpeg commands over generated clips, and ffprobe to read results.
import { execFileSync } from 'node:child_process';
import { mediaToolPath } from '../../src/media/binaries.js';

export const FFMPEG = mediaToolPath('ffmpeg');
export const FFPROBE = mediaToolPath('ffprobe');

/**
 * An ffmpeg command that encodes a generated test pattern. With `realtime`, ffmpeg reads its input
 * at the clip's own rate (-re), so the encode lasts about `seconds` whatever the machine's speed.
 */
export function encodeCommand(output: string, options: { seconds?: number; fps?: number; size?: string; realtime?: boolean } = {}): string[] {
  const { seconds = 2, fps = 24, size = '320x240', realtime = false } = options;
  return [
    FFMPEG,
    '-hide_banner',
    '-y',
    ...(realtime ? ['-re'] : []),
    '-f',
    'lavfi',
    '-i',
    `testsrc2=duration=${seconds}:size=${size}:rate=${fps}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    output,
  ];
}

/** Makes a clip on disk (with a known Duration header) to use as an encode's input. */
export function makeClip(path: string, seconds = 2, fps = 24): string {
  execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=320x240:rate=${fps}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path]);
  return path;
}

export interface ProbedMedia {
  streams: { codec_type: string; nb_frames?: string }[];
  format: { duration?: string };
}

export function probe(path: string): ProbedMedia {
  const text = execFileSync(FFPROBE, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path], { encoding: 'utf8' });
  return JSON.parse(text) as ProbedMedia;
}
