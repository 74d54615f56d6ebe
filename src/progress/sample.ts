// What a parser reads from one line. Every field is optional: encoders print different things.

export type ProgressFormat = 'ffmpeg' | 'ffmpeg-progress' | 'ffmpeg-header';

export interface ProgressSample {
  format: ProgressFormat;
  frame?: number | null;
  totalFrames?: number | null;
  fps?: number | null;
  /** kbit/s */
  bitrate?: number | null;
  speed?: number | null;
  /** Position in the output, in seconds of media. */
  timeSeconds?: number | null;
  /** Length of the input, in seconds of media, from a header. */
  durationSeconds?: number | null;
  /** Frames per second of the input, from a header. */
  frameRate?: number | null;
  /** 0-100, where the encoder prints its own percentage. */
  percent?: number | null;
  /** The encoder's own remaining-time estimate, in seconds. */
  encoderEtaSeconds?: number | null;
  /** The encoder's last report: the work is complete. */
  final?: boolean;
}

export type LineParser = (line: string) => ProgressSample | null;
