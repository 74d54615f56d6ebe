// The job file's lines: one JSON object a line, in the format nedb wrote (the store before this
// one), so a data folder from an earlier version loads as it is: `{"_id","status","json"}` for a
// job's latest record (the record kept as JSON text, so no rule of the file's format ever meets a
// job's field or variable names), `{"$$deleted":true,"_id"}` for a job removed. A later line for
// an id replaces an earlier one. Pure: text in, lines out.

export type FileLine =
  | { kind: 'record'; id: string; json: string }
  | { kind: 'removed'; id: string }
  /** A line nedb wrote about its indexes, or anything else that is no job: skipped. */
  | { kind: 'other' }
  | { kind: 'unreadable' };

export function recordLine(id: string, status: string, json: string): string {
  return JSON.stringify({ _id: id, status, json });
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
  const doc = value as { _id?: unknown; json?: unknown; $$deleted?: unknown };
  if (typeof doc._id !== 'string') return { kind: 'other' };
  if (doc.$$deleted === true) return { kind: 'removed', id: doc._id };
  // A record whose text is not a string is kept as what it is, for the record check to refuse.
  return { kind: 'record', id: doc._id, json: typeof doc.json === 'string' ? doc.json : JSON.stringify(doc.json ?? null) };
}

// The lines this store writes, recognised by their start and end without parsing the record: a
// start-up reads every line of the file only to find each job's latest.
const RECORD_START = /^\{"_id":"([^"\\]*)","status":"[a-z]+","json":"/;
const REMOVAL = /^\{"\$\$deleted":true,"_id":"([^"\\]*)"\}$/;

/**
 * Which job a line is about, and how, for finding each job's latest line. A line that this store
 * wrote whole is known by its start and end (a line cut short by a crash does not end in `"}`
 * after an unescaped quote); any other line is parsed.
 */
export function lineId(text: string): { kind: 'record' | 'removed'; id: string } | { kind: 'other' | 'unreadable' } {
  const record = RECORD_START.exec(text);
  if (record && text.endsWith('"}') && !endsEscaped(text, text.length - 2)) return { kind: 'record', id: record[1]! };
  const removal = REMOVAL.exec(text);
  if (removal) return { kind: 'removed', id: removal[1]! };
  const line = readLine(text);
  return line.kind === 'record' || line.kind === 'removed' ? { kind: line.kind, id: line.id } : line;
}

/** Whether the quote at `at` is escaped (an odd run of backslashes before it). */
function endsEscaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (at - backslashes - 1 >= 0 && text.charCodeAt(at - backslashes - 1) === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * Each line of a file read in chunks, as bytes (without its newline), with its byte offset and
 * 1-based number; the last may lack its newline. The bytes are valid only during the call: a
 * reader decodes (or copies) just the lines it wants.
 */
export class LineSplitter {
  #carry: Buffer = Buffer.alloc(0);
  #offset = 0;
  #number = 0;

  constructor(private readonly onLine: (line: Buffer, offset: number, number: number) => void) {}

  push(chunk: Buffer): void {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    let start = 0;
    for (let newline = data.indexOf(0x0a, start); newline >= 0; newline = data.indexOf(0x0a, start)) {
      this.#emit(data, start, newline);
      start = newline + 1;
    }
    this.#carry = Buffer.from(data.subarray(start));
  }

  end(): void {
    if (this.#carry.length > 0) this.#emit(this.#carry, 0, this.#carry.length, false);
    this.#carry = Buffer.alloc(0);
  }

  #emit(data: Buffer, start: number, end: number, newline = true): void {
    this.#number += 1;
    const length = end - start + (newline ? 1 : 0);
    if (end > start) this.onLine(data.subarray(start, end), this.#offset, this.#number);
    this.#offset += length;
  }
}
