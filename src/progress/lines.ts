// Chunks from a terminal → one string per progress record. Encoders redraw their status with `\r`
// (and SVT-AV1 with `\b`), so both `\r` and `\n` end a record; ANSI colour codes are removed.
// A record is cut at MAX_RECORD_CHARS: an encoder (or anything a job runs) may print megabytes
// without a newline, and nothing downstream (parsers, log, store) should hold or scan more than
// a status line's worth.
import { stripVTControlCharacters } from 'node:util';
import { Observable, type OperatorFunction, map, mergeAll } from './rx.js';

export const MAX_RECORD_CHARS = 8192;

/** Splits a stream of text chunks into records; a record cut between two chunks is joined first. */
export function splitRecords(maxChars = MAX_RECORD_CHARS): OperatorFunction<string, string> {
  return (chunks) => chunks.pipe(splitRecordBatches(maxChars), mergeAll());
}

/**
 * Each record a batch of its own: for a log read after the fact (`encsup parse`, a replayed
 * capture), where a file's records were printed at different instants, not in one read.
 */
export function splitRecordsApart(maxChars = MAX_RECORD_CHARS): OperatorFunction<string, readonly string[]> {
  return (chunks) => chunks.pipe(splitRecords(maxChars), map((record) => [record]));
}

/**
 * The records of one chunk. `redrawn` lists, in order, the records that the text after them drew
 * over on their own line (a lone `\r`, or a run of backspaces), where any were.
 */
export type RecordBatch = readonly string[] & { readonly redrawn?: readonly number[] };

/**
 * The records of each chunk together, one array per chunk that completes any: what arrived in one
 * chunk (a read, or an encoder's reads of 40 ms gathered: encoder-run.ts) arrived within a moment,
 * so a reader may skip a status line the next one in it replaces.
 */
export function splitRecordBatches(maxChars = MAX_RECORD_CHARS): OperatorFunction<string, RecordBatch> {
  return (chunks) =>
    new Observable<RecordBatch>((subscriber) => {
      let batch: string[] = [];
      let redrawn: number[] = [];
      const flush = () => {
        if (batch.length === 0) return;
        const full = redrawn.length === 0 ? batch : Object.assign(batch, { redrawn });
        batch = [];
        redrawn = [];
        subscriber.next(full);
      };
      let pending = '';
      // Characters of the current record beyond the limit, counted but never kept.
      let cut = 0;
      const emit = (raw: string, drawnOver: boolean) => {
        const line = cleanRecord(raw);
        const shown = cut > 0 ? `${line} … [encsup cut ${cut} more characters of this line]` : line;
        cut = 0;
        if (!VISIBLE.test(shown)) return;
        if (drawnOver) redrawn.push(batch.length);
        batch.push(shown);
      };
      // Text within one record. A counter redrawn with backspaces (SVT-AV1) shows a new value at
      // each run of backspaces: what the terminal showed just before it is a record of its own.
      const append = (text: string) => {
        if (cut === 0 && pending.length + text.length <= maxChars) {
          pending += text;
          return;
        }
        const room = Math.max(0, maxChars - pending.length);
        pending += text.slice(0, room);
        cut += text.length - Math.min(room, text.length);
      };
      const extend = (text: string) => {
        if (!text.includes('\b')) return append(text);
        for (const piece of text.split(/(\x08+)/)) {
          if (piece === '') continue;
          if (piece[0] !== '\b') {
            append(piece);
            continue;
          }
          emit(pending, true);
          const shown = stripVTControlCharacters(pending);
          pending = shown.slice(0, Math.max(0, shown.length - piece.length));
        }
      };
      const subscription = chunks.subscribe({
        next(chunk) {
          const parts = chunk.split(/\r\n|\r|\n/);
          const rest = parts.pop() ?? '';
          // A chunk with no backspace and no control sequence (nearly every read of a busy
          // encoder) needs none of the per-record checks: a record wholly inside it is only trimmed.
          const plain = isPlainText(chunk);
          // Where in the chunk the current part's line break is.
          let at = 0;
          for (let index = 0; index < parts.length; index++) {
            const part = parts[index]!;
            at += part.length;
            const endsWithCr = chunk.charCodeAt(at) === CR;
            const crLf = endsWithCr && chunk.charCodeAt(at + 1) === LF;
            // A lone \r: the next text of the line is drawn over this record.
            const drawnOver = endsWithCr && !crLf;
            at += crLf ? 2 : 1;
            if (plain && pending === '' && part.length <= maxChars) {
              const line = part.trimEnd();
              // What trimEnd keeps ends in a character `\S` matches: visible when not empty.
              if (line === '') continue;
              if (drawnOver) redrawn.push(batch.length);
              batch.push(line);
              continue;
            }
            extend(part);
            emit(pending, drawnOver);
            pending = '';
          }
          extend(rest);
          flush();
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          if (pending !== '' || cut > 0) emit(pending, false);
          pending = '';
          flush();
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}

const CR = 13;
const LF = 10;

/**
 * Whether `next`, drawn over `current` on the same line, is the same status line redrawn and
 * gone on: the same text before the first number of each (a bar's name, `Encoding: task `, `[`;
 * the spaces that right-align a number aside), and that number not gone back. Then `current`
 * says nothing that `next` does not say newer. A number that goes back (a bar that starts again,
 * the next pass) keeps `current`: it is the last word of what came before.
 */
export function redrawsSameLine(current: string, next: string): boolean {
  const end = labelEnd(current);
  return end >= 0 && end === labelEnd(next) && current.startsWith(next.slice(0, end)) && leadingNumber(next, end) >= leadingNumber(current, end);
}

/** The number (digits, and a fraction) from `from` on, spaces before it skipped. */
function leadingNumber(line: string, from: number): number {
  let at = from;
  while (line.charCodeAt(at) === 0x20) at++;
  let value = 0;
  for (let code = line.charCodeAt(at); isDigit(code); code = line.charCodeAt(++at)) value = value * 10 + (code - 0x30);
  if (line.charCodeAt(at) !== 0x2e) return value;
  let scale = 0.1;
  for (let code = line.charCodeAt(++at); isDigit(code); code = line.charCodeAt(++at), scale /= 10) value += (code - 0x30) * scale;
  return value;
}

/** Where the text before a line's first digit ends, its trailing spaces left out; -1 without a digit. */
function labelEnd(line: string): number {
  let at = 0;
  while (at < line.length && !isDigit(line.charCodeAt(at))) at++;
  if (at === line.length) return -1;
  while (at > 0 && line.charCodeAt(at - 1) === 0x20) at--;
  return at;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

const VISIBLE = /\S/;
// Every control sequence starts with ESC or CSI: a record with neither (nearly every status line)
// skips the sequence matcher, which is most of the cost of a record.
const CONTROL_START = /[\u001B\u009B]/;

function isPlainText(chunk: string): boolean {
  return !chunk.includes('\b') && !chunk.includes('\u001B') && !chunk.includes('\u009B');
}

/** Removes terminal control sequences and applies backspaces, as a terminal would show the text. */
export function cleanRecord(raw: string): string {
  const text = CONTROL_START.test(raw) ? stripVTControlCharacters(raw) : raw;
  if (!text.includes('\b')) return text.trimEnd();
  let shown = '';
  for (const char of text) {
    if (char === '\b') shown = shown.slice(0, -1);
    else shown += char;
  }
  return shown.trimEnd();
}
