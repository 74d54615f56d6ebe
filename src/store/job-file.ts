// The job file's lines: one JSON object a line, in the format nedb wrote (the store before this
// one), so a data folder from an earlier version loads as it is: `{"_id","status","json"}` for a
// job's latest record (the record kept as JSON text, so no rule of the file's format ever meets a
// job's field or variable names), with `summary` before `json` for a finished job (job-summary.ts),
// `{"$$deleted":true,"_id"}` for a job removed. A later line for an id replaces an earlier one.
// Pure: text in, lines out.
import { type JobSummary, summaryRow } from './job-summary.js';

export type FileLine =
  | { kind: 'record'; id: string; status: string; json: string }
  | { kind: 'removed'; id: string }
  /** A line nedb wrote about its indexes, or anything else that is no job: skipped. */
  | { kind: 'other' }
  | { kind: 'unreadable' };

/**
 * A job's record as a line; a finished job's carries its summary before the record, so a start
 * reads the summary (`readHead`) and leaves the record for when someone asks for that job.
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

// The lines this store writes, recognised by their bytes without decoding them: a start-up reads
// every line of the file only to find each job's latest.
const RECORD_START = Buffer.from('{"_id":"');
const STATUS_KEY = Buffer.from('","status":"');
const REMOVAL_START = Buffer.from('{"$$deleted":true,"_id":"');
const JSON_KEY = Buffer.from(',"json":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x7d;

export type LineId = { kind: 'record'; id: string; status: string } | { kind: 'removed'; id: string } | { kind: 'other' | 'unreadable' };

/**
 * Which job a line is about, and how, for finding each job's latest line. A line that this store
 * wrote whole is known by its start and end (a line cut short by a crash does not end in `"}`
 * after an unescaped quote), reading only its id and status; any other line is parsed.
 */
export function lineId(bytes: Buffer): LineId {
  if (startsWith(bytes, REMOVAL_START)) {
    const end = bytes.indexOf(QUOTE, REMOVAL_START.length);
    if (end === bytes.length - 2 && bytes[end + 1] === CLOSE && bytes.indexOf(BACKSLASH, REMOVAL_START.length) < 0) return { kind: 'removed', id: bytes.toString('utf8', REMOVAL_START.length, end) };
  } else if (startsWith(bytes, RECORD_START) && bytes.length >= 2 && bytes[bytes.length - 1] === CLOSE && bytes[bytes.length - 2] === QUOTE && !escapedAt(bytes, bytes.length - 2)) {
    const idEnd = bytes.indexOf(QUOTE, RECORD_START.length);
    const idBytes = bytes.subarray(RECORD_START.length, idEnd);
    if (idEnd > 0 && idBytes.indexOf(BACKSLASH) < 0 && bytes.subarray(idEnd, idEnd + STATUS_KEY.length).equals(STATUS_KEY)) {
      const statusStart = idEnd + STATUS_KEY.length;
      const statusEnd = bytes.indexOf(QUOTE, statusStart);
      if (statusEnd > statusStart && statusEnd - statusStart <= 16) return { kind: 'record', id: idBytes.toString('utf8'), status: bytes.toString('latin1', statusStart, statusEnd) };
    }
  }
  const line = readLine(bytes.toString('utf8'));
  if (line.kind === 'record') return { kind: 'record', id: line.id, status: line.status };
  return line.kind === 'removed' ? { kind: 'removed', id: line.id } : line;
}

/**
 * The start of a record line this store wrote, up to the record: its id, status and summary,
 * parsed without the record (most of the line). null when the line has no such start.
 */
export function readHead(bytes: Buffer): { _id: unknown; status: unknown; summary?: unknown } | null {
  // The first `,"json":"` with its quotes unescaped is the record's key: inside a string value
  // every quote is escaped.
  const at = bytes.indexOf(JSON_KEY);
  if (at < 0) return null;
  try {
    const head = JSON.parse(`${bytes.toString('utf8', 0, at)}}`) as unknown;
    return head !== null && typeof head === 'object' && !Array.isArray(head) ? (head as { _id: unknown; status: unknown; summary?: unknown }) : null;
  } catch {
    return null;
  }
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** Whether the quote at `at` is escaped (an odd run of backslashes before it). */
function escapedAt(bytes: Buffer, at: number): boolean {
  let backslashes = 0;
  while (at - backslashes - 1 >= 0 && bytes[at - backslashes - 1] === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * Each line of a file read in chunks, as bytes (without its newline), with its byte offset and
 * 1-based number; the last may lack its newline. The bytes are valid only during the call: a
 * reader decodes (or copies) just the lines it wants.
 */
export class LineSplitter {
  // The start of a line the chunks so far cut off, in pieces: a line longer than many chunks is
  // copied once, when its end arrives.
  #carry: Buffer[] = [];
  #offset = 0;
  #number = 0;

  constructor(private readonly onLine: (line: Buffer, offset: number, number: number) => void) {}

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
    const length = end - start + (newline ? 1 : 0);
    if (end > start) this.onLine(data.subarray(start, end), this.#offset, this.#number);
    this.#offset += length;
  }
}
