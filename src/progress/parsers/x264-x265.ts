// x264 and x265 CLI status lines (x264.c / x265 `[12.3%] 37/300 frames, 45.67 fps, 1234.56 kb/s,
// eta 0:00:12`), the unknown-total form (`24 frames: 39.11 fps, 14.60 kb/s`), the table of modded
// x264 builds and the closing `encoded N frames…` line. NVEncC prints a look-alike, read first (its
// own file), so that its frozen percentage is never taken for x264's. Indexer percentages
// (`indexing input file [11.5%]`) and x265's per-frame-type statistics are not progress.
import type { LineParser, ProgressSample } from '../sample.js';
import { parseEta, parseNumber } from '../units.js';
import { parseNvencc } from './nvencc.js';

const WITH_TOTAL = /^\s*\[\s*(\d+(?:\.\d+)?)%\]\s+(\d+)\/(\d+) frames, (\d+(?:\.\d+)?) fps, (\d+(?:\.\d+)?) kb\/s(?:, eta (\d+:\d+:\d+))?/;
const NO_TOTAL = /^\s*(\d+) frames: (\d+(?:\.\d+)?) fps, (\d+(?:\.\d+)?) kb\/s/;
const TABLE_HEADER = /^\s*frames\s+fps\s+kb\/s\s+elapsed/;
const TABLE_ROW_TOTAL = /^\s*\[\s*(\d+(?:\.\d+)?)%\]\s+(\d+)\/(\d+)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+:\d+:\d+)\s+(\d+:\d+:\d+)/;
const TABLE_ROW = /^\s*(\d+)\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s+(\d+:\d+:\d+)\s+\d/;
// Reader headers that state how many frames this process encodes: an AviSynth range (`frames 760
// - 1519 of 1520` is 760 frames, inclusive) or avs2pipemod's `writing 65960 frames of`.
const RANGE = /\bframes (\d+) - (\d+) of \d+/;
const WRITING = /avs2pipemod\[info\]: writing (\d+) frames of/;
const ENCODED = /^\s*encoded (\d+) frames(?: in (\d+(?:\.\d+)?)s \((\d+(?:\.\d+)?) fps\)|, (\d+(?:\.\d+)?) fps), (\d+(?:\.\d+)?) kb\/s/;

export function createX26xParser(): LineParser {
  let inTable = false;
  return (line) => {
    // Every form but a table's bare row says `frames` or closes its percentage with `%]`.
    if (!inTable && !line.includes('frames') && !line.includes('%]')) return null;
    let match = WITH_TOTAL.exec(line);
    if (match) {
      const [, percent, frame, total, fps, kbps, eta] = match;
      return sample({ percent: Number(percent), frame: Number(frame), totalFrames: Number(total), fps: parseNumber(fps), bitrate: parseNumber(kbps), encoderEtaSeconds: parseEta(eta) });
    }
    const nvencc = parseNvencc(line);
    if (nvencc) return nvencc;
    if ((match = NO_TOTAL.exec(line))) {
      return sample({ frame: Number(match[1]), fps: parseNumber(match[2]), bitrate: parseNumber(match[3]) });
    }
    if ((match = ENCODED.exec(line))) {
      return sample({ frame: Number(match[1]), fps: parseNumber(match[3] ?? match[4]), bitrate: parseNumber(match[5]) });
    }
    if ((match = RANGE.exec(line))) {
      return { format: 'x26x', header: true, totalFrames: Number(match[2]) - Number(match[1]) + 1 };
    }
    if ((match = WRITING.exec(line))) return { format: 'x26x', header: true, totalFrames: Number(match[1]) };
    if (TABLE_HEADER.test(line)) {
      inTable = true;
      return null;
    }
    if ((match = TABLE_ROW_TOTAL.exec(line))) {
      const [, percent, frame, total, fps, kbps, , remain] = match;
      return sample({ percent: Number(percent), frame: Number(frame), totalFrames: Number(total), fps: parseNumber(fps), bitrate: parseNumber(kbps), encoderEtaSeconds: parseEta(remain) });
    }
    // A row of bare numbers means something only under the table's header row.
    if (inTable && (match = TABLE_ROW.exec(line))) {
      return sample({ frame: Number(match[1]), fps: parseNumber(match[2]), bitrate: parseNumber(match[3]) });
    }
    return null;
  };
}

function sample(fields: Omit<ProgressSample, 'format'>): ProgressSample {
  return { format: 'x26x', ...fields };
}
