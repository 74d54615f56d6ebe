// Which kind of failure an attempt was, from evidence: how it ended (exit code, signal, why encsup
// ended it), the last lines it printed, the kernel's count of out-of-memory kills, and the free
// space left where it wrote. Patterns were taken from real runs of ffmpeg, HandBrakeCLI, x264,
// x265 and SvtAv1EncApp with a missing file, a truncated input, a bad option, a read-only or
// missing folder and a full tmpfs (test/fixtures/failures/). Pure.
import type { FailureEvidence, FailureKind } from '../../machines/failure-kinds.js';
import type { TerminationReason } from '../../machines/job-record.js';
import { inputFiles } from '../media/probe.js';

export interface FailureFacts {
  exitCode: number | null;
  signal: string | null;
  /** Why encsup ended it, if it did. */
  terminationReason: TerminationReason | null;
  /** The last lines it printed. */
  lines: readonly string[];
  /** The job's command and folder, to tell an input's path from an output's in "PATH: error" lines. */
  command: readonly string[];
  cwd: string;
  output: string | null;
  /** The kernel killed a process of the daemon's cgroup for memory while this ran. */
  oomKilled: boolean;
  /** Free bytes on the output's filesystem when it ended; null when unknown. */
  outputFreeBytes: number | null;
}

interface Pattern {
  kind: FailureKind;
  test: RegExp;
}

// In this order: the first kind any line shows wins, so the specific (a full disk, a GPU) beats
// the generic (an invalid argument) that encoders print after it.
const PATTERNS: Pattern[] = [
  { kind: 'disk-full', test: /No space left on device|Disk quota exceeded|\bENOSPC\b/i },
  {
    kind: 'hardware-busy',
    test: /OpenEncodeSessionEx failed|No (?:NVENC )?capable devices found|incompatible client key|^\[(?:h264|hevc|av1)_(?:nvenc|vaapi|qsv|amf)[^\]]*\] Cannot load|CUDA_ERROR_\w+|cuInit\(\d*\) failed|No VA display found|vaInitialize failed|Failed to initiali[sz]e (?:VAAPI|QSV|the CUDA)|Device creation failed|MFX_ERR_\w+|Error initializing an? (?:internal )?MFX session|hwupload.*failed/i,
  },
  { kind: 'out-of-memory', test: /Cannot allocate memory|std::bad_alloc|\bMemoryError\b|CUDA out of memory|out of memory/i },
  {
    kind: 'output-unwritable',
    test: /could not open output file|failed to open output file|Could not write to indicated output file|Read-only file system|Unable to find a suitable output format|Error opening output files?/i,
  },
  { kind: 'input-missing', test: /could not open input file|unable to open input file|Invalid Input File|Can't stat /i },
  {
    kind: 'corrupt-input',
    test: /Invalid data found when processing input|moov atom not found|error reading header|Invalid NAL unit|Truncating packet|End of file while parsing|unrecognized file type|stream ends prematurely|corrupt(?:ed)? (?:input|stream|frame|data)/i,
  },
  {
    kind: 'unsupported',
    test: /Unknown encoder|Unknown decoder|Unrecognized option|unrecognized option|unknown option|Option not found|Error splitting the argument list|Unprocessed tokens|Unknown input format|Encoder not found|Decoder .* not found|not supported|Error in configuration|Invalid argument/i,
  },
];

// "PATH: No such file or directory" / "PATH: Permission denied": whose path it is decides the kind.
const PATH_ERROR = /^(.+?): (No such file or directory|Permission denied|Is a directory)$/;

function outputsOf(command: readonly string[], output: string | null): string[] {
  const outputs = output === null ? [] : [output];
  command.forEach((arg, index) => {
    if ((arg === '-o' || arg === '--output' || arg === '-b') && command[index + 1] !== undefined) outputs.push(command[index + 1]!);
  });
  // ffmpeg's output is its last argument.
  if (command.length > 1 && !command.at(-1)!.startsWith('-')) outputs.push(command.at(-1)!);
  return outputs;
}

function sameFile(a: string, b: string): boolean {
  return a === b || a.endsWith(`/${b}`) || b.endsWith(`/${a}`);
}

const EVIDENCE_CHARS = 300;
const evidenceOf = (line: string) => line.trim().slice(0, EVIDENCE_CHARS);

// Under this, a write that failed with no message (x264 "aborted at input frame …") was the disk.
const NEARLY_FULL_BYTES = 1024 * 1024;

// Encoders print a whole help page after a bad option (x265): the line that says why is long
// gone from the tail. Lines like these are kept aside while a job runs.
const LINE_CHECK_CHARS = 2000;

/** Whether a line may be a failure's evidence (kept aside from the tail for the classifier). */
export function mayBeEvidence(line: string): boolean {
  const text = line.length > LINE_CHECK_CHARS ? line.slice(0, LINE_CHECK_CHARS) : line.trim();
  return PATH_ERROR.test(text) || PATTERNS.some((pattern) => pattern.test.test(text));
}

export function classifyFailure(facts: FailureFacts): FailureEvidence {
  if (facts.terminationReason === 'stall') return { kind: 'stalled', evidence: null };
  if (facts.terminationReason === 'timeout') return { kind: 'timed-out', evidence: null };
  if (facts.terminationReason === 'shutdown') return { kind: 'interrupted', evidence: null };
  const lines = facts.lines.map((line) => line.trim()).filter((line) => line !== '');
  // A path the encoder names as missing or forbidden: an input's is the input, an output's the folder.
  for (const line of [...lines].reverse()) {
    const match = PATH_ERROR.exec(line);
    if (!match) continue;
    const path = match[1]!.replace(/^.*?\] /, '');
    if (outputsOf(facts.command, facts.output).some((output) => sameFile(output, path))) return { kind: 'output-unwritable', evidence: evidenceOf(line) };
    if (inputFiles(facts.command, facts.cwd).some((input) => sameFile(input, path)) || match[2] !== 'Is a directory') return { kind: 'input-missing', evidence: evidenceOf(line) };
  }
  for (const pattern of PATTERNS) {
    const line = lines.findLast((each) => pattern.test.test(each));
    if (line !== undefined) return { kind: pattern.kind, evidence: evidenceOf(line) };
  }
  if (facts.oomKilled) return { kind: 'out-of-memory', evidence: `killed by ${facts.signal ?? 'the kernel'}; the kernel's out-of-memory killer ran while it did` };
  if (facts.outputFreeBytes !== null && facts.outputFreeBytes < NEARLY_FULL_BYTES) {
    return { kind: 'disk-full', evidence: `${facts.outputFreeBytes} bytes free where it wrote, when it ended${lines.length > 0 ? ` (last line: ${evidenceOf(lines.at(-1)!)})` : ''}` };
  }
  if (facts.signal !== null) return { kind: 'killed', evidence: `killed by ${facts.signal}, not by encsup` };
  return { kind: 'unknown', evidence: lines.length > 0 ? evidenceOf(lines.at(-1)!) : null };
}

// At most this free where an output was written, the disk was full when the encoder ended: a write
// of that output failed, whatever the exit code says (x265 and SvtAv1EncApp exit 0 on ENOSPC, and
// what they got down may still read as media). A few blocks, so a complete output that happens to
// leave a nearly full disk is not taken for a cut one.
const FULL_BYTES = 64 * 1024;

/** A full disk under an output whose encoder exited 0, or null where there was room. */
export function fullDiskAtExit(output: string, outputFreeBytes: number | null): FailureEvidence | null {
  if (outputFreeBytes === null || outputFreeBytes >= FULL_BYTES) return null;
  return { kind: 'disk-full', evidence: `${outputFreeBytes} bytes free where ${output} was written, when the encoder ended: the output is likely cut short` };
}

/** An output that failed its check after the encoder exited 0: a full disk where it was written (an encoder that does not notice, as x265 and SvtAv1EncApp), or a bad output. */
export function classifyCheckFailure(message: string, outputFreeBytes: number | null): FailureEvidence {
  if (outputFreeBytes !== null && outputFreeBytes < NEARLY_FULL_BYTES) return { kind: 'disk-full', evidence: `${outputFreeBytes} bytes free where the output was written; the check said: ${evidenceOf(message)}` };
  return { kind: 'output-check', evidence: evidenceOf(message) };
}
