// The job file's lines: one JSON object a line, in the format nedb wrote (the store before this
// one), so a data folder from an earlier version loads as it is: `{"_id","status","json"}` for a
// job's latest record (the record kept as JSON text, so no rule of the file's format ever meets a
// job's field or variable names), with `summary` before `json` for a finished job (job-summary.ts),
// `{"$$deleted":true,"_id"}` for a job removed. A later line for an id replaces an earlier one.
// Pure: text in, lines out.
import { JOB_STATUSES } from '../../machines/job-record.js';
import { type JobSummary, summaryRow } from './job-summary.js';

export type FileLine =
  | { kind: 'record'; id: string; status: string; json: string }
  | { kind: 'removed'; id: string }
  /** A line nedb wrote about its indexes, or anything else that is no job: skipped. */
  | { kind: 'other' }
  | { kind: 'unreadable' };

/**
 * A job's record as a line; a finished job's carries its summary before the record, so a start
 * reads the summary (`summaryRowOf`) and leaves the record for when someone asks for that job.
 */
export function recordLine(id: string, status: string, json: string, summary: JobSummary | null = null): string {
  return JSON.stringify(summary === null ? { _id: id, status, json } : { _id: id, status, summary: summaryRow(summary), json });
}

export function removalLine(id: string): string {
  return JSON.stringify({ $$deleted: true, _id: id });
}

export function readLine(text: string): FileLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unreadable' };
  }
  if (value === null || typeof value !== 'object') return { kind: 'unreadable' };
  const doc = value as { _id?: unknown; status?: unknown; json?: unknown; $$deleted?: unknown };
  if (typeof doc._id !== 'string') return { kind: 'other' };
  if (doc.$$deleted === true) return { kind: 'removed', id: doc._id };
  // A record whose text is not a string is kept as what it is, for the record check to refuse.
  return { kind: 'record', id: doc._id, status: typeof doc.status === 'string' ? doc.status : '', json: typeof doc.json === 'string' ? doc.json : JSON.stringify(doc.json ?? null) };
}

// The lines this store writes, recognised without decoding them: a start-up reads every line of
// the file only to find each job's latest. A line's start is looked at as one-byte text (each byte
// a character), where the markers are ASCII and JavaScript's string methods find them.
const RECORD_START = '{"_id":"';
const STATUS_KEY = '","status":"';
const REMOVAL_START = '{"$$deleted":true,"_id":"';
const SUMMARY_KEY = ',"summary":[';
const ROW_END = Buffer.from('],"json":"');
// Enough of a line's start for its id and status (ids are a dozen characters), and enough for a
// longer id; a line with a longer one still is parsed.
const HEAD_CHARS = 48;
const LONG_HEAD_CHARS = 512;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x7d;
// Sliced from a longer string, a string of this many characters or more keeps that one alive.
const SHORT_SLICE = 13;

export type LineId =
  /** `rest`: where the line goes on after the status (from its start), in a line this store wrote; -1 in any other. */
  | { kind: 'record'; id: string; status: string; rest: number }
  | { kind: 'removed'; id: string }
  | { kind: 'other' | 'unreadable' };

/**
 * Which job a line (`bytes` from `start` to `end`) is about, and how, for finding each job's latest
 * line. A line that this store wrote whole is known by its start and end (a line cut short by a
 * crash does not end in `"}` after an unescaped quote), reading only its id and status; any other
 * line is parsed.
 */
export function lineId(bytes: Buffer, start = 0, end = bytes.length): LineId {
  return (end - start > HEAD_CHARS && ownLine(bytes, start, end, HEAD_CHARS)) || ownLine(bytes, start, end, LONG_HEAD_CHARS) || parsedLineId(bytes, start, end);
}

/** The line's id and status where this store wrote it and its start (`chars` long) holds them; null otherwise. */
function ownLine(bytes: Buffer, start: number, end: number, chars: number): LineId | null {
  const head = bytes.toString('latin1', start, Math.min(end, start + chars));
  if (head.startsWith(REMOVAL_START)) {
    const idEnd = head.indexOf('"', REMOVAL_START.length);
    if (idEnd > 0 && start + idEnd + 2 === end && bytes[end - 1] === CLOSE && plainText(head, REMOVAL_START.length, idEnd)) return { kind: 'removed', id: textOf(bytes, head, start, REMOVAL_START.length, idEnd) };
  } else if (head.startsWith(RECORD_START) && end - start >= 2 && bytes[end - 1] === CLOSE && bytes[end - 2] === QUOTE && !escapedAt(bytes, start, end - 2)) {
    const idEnd = head.indexOf('"', RECORD_START.length);
    if (idEnd > 0 && plainText(head, RECORD_START.length, idEnd) && head.startsWith(STATUS_KEY, idEnd)) {
      const statusStart = idEnd + STATUS_KEY.length;
      const statusEnd = head.indexOf('"', statusStart);
      if (statusEnd > statusStart && statusEnd - statusStart <= 16) {
        return { kind: 'record', id: textOf(bytes, head, start, RECORD_START.length, idEnd), status: statusAt(head, statusStart, statusEnd), rest: statusEnd + 1 };
      }
    }
  }
  return null;
}

function parsedLineId(bytes: Buffer, start: number, end: number): LineId {
  const line = readLine(bytes.toString('utf8', start, end));
  if (line.kind === 'record') return { kind: 'record', id: line.id, status: line.status, rest: -1 };
  return line.kind === 'removed' ? { kind: 'removed', id: line.id } : line;
}

/**
 * The summary row a finished job's line carries (`,"summary":[…]` after its status, where `rest`
 * from lineId points), parsed without the record that follows it; undefined when it has none.
 */
export function summaryRowOf(bytes: Buffer, rest: number, start = 0, end = bytes.length): unknown {
  if (rest < 0 || bytes.toString('latin1', start + rest, start + rest + SUMMARY_KEY.length) !== SUMMARY_KEY) return undefined;
  // The first `],"json":"` with its quotes unescaped ends the row: inside a string value every
  // quote is escaped.
  const rowEnd = bytes.indexOf(ROW_END, start + rest + SUMMARY_KEY.length);
  if (rowEnd < 0 || rowEnd >= end) return undefined;
  const rowStart = start + rest + SUMMARY_KEY.length - 1;
  try {
    return JSON.parse(bytes.toString('utf8', rowStart, rowEnd + 1)) as unknown;
  } catch {
    return undefined;
  }
}

/** Whether the text from `from` to `to` is printable ASCII with no backslash: the same bytes read as one-byte text or UTF-8, and nothing escaped. */
function plainText(text: string, from: number, to: number): boolean {
  for (let at = from; at < to; at++) {
    const code = text.charCodeAt(at);
    if (code < 0x20 || code > 0x7e || code === BACKSLASH) return false;
  }
  return true;
}

/** A part of the head as a string of its own (a slice of a long one would keep all of it). */
function textOf(bytes: Buffer, head: string, start: number, from: number, to: number): string {
  return to - from < SHORT_SLICE ? head.slice(from, to) : bytes.toString('latin1', start + from, start + to);
}

/** The status at this place: one of the known ones as the same string each time, or what is there. */
function statusAt(head: string, from: number, to: number): string {
  for (const status of JOB_STATUSES) if (status.length === to - from && head.startsWith(status, from)) return status;
  return head.slice(from, to);
}

/** Whether the quote at `at` is escaped (an odd run of backslashes before it, within the line). */
function escapedAt(bytes: Buffer, start: number, at: number): boolean {
  let backslashes = 0;
  while (at - backslashes - 1 >= start && bytes[at - backslashes - 1] === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * Each line of a file read in chunks: the bytes that hold it, where it starts and ends in them
 * (without its newline), its byte offset in the file and its 1-based number; the last may lack its
 * newline. The bytes are valid only during the call: a reader decodes (or copies) just the lines
 * it wants.
 */
export class LineSplitter {
  // The start of a line the chunks so far cut off, in pieces: a line longer than many chunks is
  // copied once, when its end arrives.
  #carry: Buffer[] = [];
  #offset = 0;
  #number = 0;

  constructor(private readonly onLine: (bytes: Buffer, start: number, end: number, offset: number, number: number) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.#carry.length > 0) {
      const newline = chunk.indexOf(0x0a);
      if (newline < 0) {
        this.#carry.push(Buffer.from(chunk));
        return;
      }
      // Only the line cut by the last chunk is copied, not the whole chunk.
      const line = Buffer.concat([...this.#carry, chunk.subarray(0, newline)]);
      this.#carry = [];
      this.#emit(line, 0, line.length);
      start = newline + 1;
    }
    for (let newline = chunk.indexOf(0x0a, start); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
      this.#emit(chunk, start, newline);
      start = newline + 1;
    }
    if (start < chunk.length) this.#carry.push(Buffer.from(chunk.subarray(start)));
  }

  end(): void {
    if (this.#carry.length === 0) return;
    const line = Buffer.concat(this.#carry);
    this.#carry = [];
    this.#emit(line, 0, line.length, false);
  }

  #emit(data: Buffer, start: number, end: number, newline = true): void {
    this.#number += 1;
    if (end > start) this.onLine(data, start, end, this.#offset, this.#number);
    this.#offset += end - start + (newline ? 1 : 0);
  }
}
