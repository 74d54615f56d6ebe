// Chunks from a terminal → one string per progress record. Encoders redraw their status with `\r`
// (and SVT-AV1 with `\b`), so both `\r` and `\n` end a record; ANSI colour codes are removed.
// A record is cut at MAX_RECORD_CHARS: an encoder (or anything a job runs) may print megabytes
// without a newline, and nothing downstream (parsers, log, store) should hold or scan more than
// a status line's worth.
import { stripVTControlCharacters } from 'node:util';
import { Observable, type OperatorFunction, map, mergeAll } from './rx.js';

export const MAX_RECORD_CHARS = 8192;

/**
 * Splits a stream of text chunks into records; a record cut between two chunks is joined first.
 * Every state of a counter redrawn with backspaces is a record, however many a chunk holds.
 */
export function splitRecords(maxChars = MAX_RECORD_CHARS): OperatorFunction<string, string> {
  return (chunks) => chunks.pipe(splitRecordBatches(maxChars, { everyCounterState: true }), mergeAll());
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

export interface SplitOptions {
  /**
   * Whether a counter state that the same chunk draws over at once is a record too
   * (countsDrawnOver). Live reads pass over such states: a reader would skip them. Default: no.
   */
  everyCounterState?: boolean;
}

/**
 * The records of each chunk together, one array per chunk that completes any: what arrived in one
 * chunk (a read, or an encoder's reads of 40 ms gathered: encoder-run.ts) arrived within a moment,
 * so a reader may skip a status line the next one in it replaces.
 */
export function splitRecordBatches(maxChars = MAX_RECORD_CHARS, options: SplitOptions = {}): OperatorFunction<string, RecordBatch> {
  const passOverCounts = options.everyCounterState !== true;
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
      // Whether `pending` may hold a control sequence: only text of a chunk that has one can.
      let pendingMayHoldControl = false;
      // Whether `pending` has no digit; null when not yet looked at since it last changed.
      let pendingDigitFree: boolean | null = null;
      // Whether the last text ended in a run of backspaces, which the next may go on with.
      let backspacesGoOn = false;
      // Characters of the current record beyond the limit, counted but never kept.
      let cut = 0;
      // Backspaces never reach `pending` (extend applies them), so a record with no control
      // sequence is clean once trimmed; what trimEnd keeps is visible when not empty.
      const emit = (raw: string, drawnOver: boolean) => {
        const line = pendingMayHoldControl ? cleanRecord(raw) : raw.trimEnd();
        const shown = cut > 0 ? `${line} … [encsup cut ${cut} more characters of this line]` : line;
        cut = 0;
        if (shown === '') return;
        if (drawnOver) redrawn.push(batch.length);
        batch.push(shown);
      };
      // A record starts from text with no control sequence: nothing, or what a terminal showed.
      const startRecord = (text: string) => {
        pending = text;
        pendingMayHoldControl = false;
        pendingDigitFree = null;
        backspacesGoOn = false;
      };
      const append = (text: string, mayHoldControl: boolean) => {
        pendingMayHoldControl ||= mayHoldControl;
        pendingDigitFree = null;
        backspacesGoOn = false;
        if (cut === 0 && pending.length + text.length <= maxChars) {
          pending += text;
          return;
        }
        const room = Math.max(0, maxChars - pending.length);
        pending += text.slice(0, room);
        cut += text.length - Math.min(room, text.length);
      };
      // Where the first counter state from `from` that stays a record starts (countsDrawnOver).
      const afterCountsDrawnOver = (text: string, from: number): number => {
        if (cut > 0 || pendingMayHoldControl) return from;
        pendingDigitFree ??= !HAS_DIGIT.test(pending);
        return pendingDigitFree ? from + countsDrawnOver(text, from, maxChars - pending.length) : from;
      };
      // Text within one record. A counter redrawn with backspaces (SVT-AV1) shows a new value at
      // each run of backspaces: what the terminal showed just before it is a record of its own,
      // unless the same text draws over it at once. Looked for, not split on.
      const extend = (text: string, mayHoldControl: boolean) => {
        let from = 0;
        for (let at = text.indexOf('\b'); at >= 0; at = text.indexOf('\b', from)) {
          if (passOverCounts && !mayHoldControl && at > from) {
            const kept = afterCountsDrawnOver(text, from);
            if (kept > from) {
              from = kept;
              at = text.indexOf('\b', from);
            }
          }
          if (at > from) append(text.slice(from, at), mayHoldControl);
          from = backspacesEnd(text, at);
          // A run of backspaces that a read cut in two is one run: what the line showed between
          // the two reads (a count half erased) was never drawn, and is not a record.
          if (at > 0 || !backspacesGoOn) emit(pending, true);
          const shown = pendingMayHoldControl ? stripVTControlCharacters(pending) : pending;
          startRecord(shown.slice(0, Math.max(0, shown.length - (from - at))));
          backspacesGoOn = from === text.length;
        }
        if (from < text.length) append(from === 0 ? text : text.slice(from), mayHoldControl);
      };
      const subscription = chunks.subscribe({
        next(chunk) {
          // Split on a string where it can be (text from pipes), which is much faster than on a pattern.
          const parts = chunk.includes('\r') ? chunk.split(LINE_BREAK) : chunk.split('\n');
          const rest = parts.pop() ?? '';
          // A chunk with no backspace and no control sequence (nearly every read of a busy
          // encoder) needs none of the per-record checks: a record wholly inside it is only trimmed.
          const mayHoldControl = chunk.includes('\u001B') || chunk.includes('\u009B');
          const plain = !mayHoldControl && !chunk.includes('\b');
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
              const line = endsVisible(part) ? part : part.trimEnd();
              // What trimEnd keeps ends in a character `\S` matches: visible when not empty.
              if (line === '') continue;
              if (drawnOver) redrawn.push(batch.length);
              batch.push(line);
              continue;
            }
            extend(part, mayHoldControl);
            emit(pending, drawnOver);
            startRecord('');
          }
          extend(rest, mayHoldControl);
          flush();
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          if (pending !== '' || cut > 0) emit(pending, false);
          startRecord('');
          flush();
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}

const LINE_BREAK = /\r\n|\r|\n/;
const HAS_DIGIT = /\d/;
const CR = 13;
const LF = 10;
const BACKSPACE = 8;
const SPACE = 0x20;

/**
 * Whether `next`, drawn over `current` on the same line, is the same status line redrawn and
 * gone on: the same text before the first number of each (a bar's name, `Encoding: task `, `[`;
 * the spaces that right-align a number aside), and that number not gone back. Then `current`
 * says nothing that `next` does not say newer. A number that goes back (a bar that starts again,
 * the next pass) keeps `current`: it is the last word of what came before.
 */
export function redrawsSameLine(current: string, next: string): boolean {
  // The same text up to the first digit or difference; from there, only spaces before each number.
  const shorter = Math.min(current.length, next.length);
  let same = 0;
  while (same < shorter) {
    const code = current.charCodeAt(same);
    if (code !== next.charCodeAt(same) || isDigit(code)) break;
    same++;
  }
  const one = skipSpaces(current, same);
  const other = skipSpaces(next, same);
  return digitAt(current, one) && digitAt(next, other) && numberAt(next, other) >= numberAt(current, one);
}

// Every loop here stops at the string's end before reading past it: a charCodeAt out of range
// (NaN) takes V8 off its fast path, and status lines often end in their number.

function digitAt(line: string, at: number): boolean {
  return at < line.length && isDigit(line.charCodeAt(at));
}

function skipSpaces(line: string, from: number): number {
  let at = from;
  while (at < line.length && line.charCodeAt(at) === 0x20) at++;
  return at;
}

/** The number (digits, and a fraction) at `from`. */
function numberAt(line: string, from: number): number {
  const end = line.length;
  let at = from;
  let value = 0;
  for (; at < end; at++) {
    const code = line.charCodeAt(at);
    if (!isDigit(code)) break;
    value = value * 10 + (code - 0x30);
  }
  if (at >= end || line.charCodeAt(at) !== 0x2e) return value;
  let scale = 0.1;
  for (at++; at < end; at++, scale /= 10) {
    const code = line.charCodeAt(at);
    if (!isDigit(code)) break;
    value += (code - 0x30) * scale;
  }
  return value;
}

/**
 * How many characters from `from` draw counter states that the same text draws over at once, on
 * a line whose text before the count has no digit: each state a count (the spaces that
 * right-align it, its digits) and the backspaces that erase just that, followed by another such
 * count, no lower. A reader skips such a state (readProgress, as redrawsSameLine says), and a
 * terminal showed it only for a moment: SVT-AV1 redraws its frame count every frame, 18
 * characters at a time, which would otherwise cost a record each. A state longer than `room`
 * would be cut, and is not passed over.
 */
function countsDrawnOver(text: string, from: number, room: number): number {
  // One pass, each state read once. The loops are written out, as this runs for every frame:
  // through skipSpaces, isDigit and backspacesEnd the split ran 8 to 10 % slower.
  const length = text.length;
  let kept = from;
  let previous = -1;
  for (let start = from; ; ) {
    let at = start;
    while (at < length && text.charCodeAt(at) === SPACE) at++;
    const digitsFrom = at;
    let count = 0;
    for (; at < length; at++) {
      const code = text.charCodeAt(at);
      if (code < 0x30 || code > 0x39) break;
      count = count * 10 + (code - 0x30);
    }
    if (at === digitsFrom || at === length || text.charCodeAt(at) !== BACKSPACE || at - start > room) break;
    if (previous >= 0) {
      if (count < previous) break;
      kept = start;
    }
    let end = at;
    while (end < length && text.charCodeAt(end) === BACKSPACE) end++;
    // Backspaces that erase more (or less) than the count leave another line.
    if (end - at !== at - start) break;
    previous = count;
    start = end;
  }
  return kept - from;
}

/** Where the run of backspaces at `at` ends. */
function backspacesEnd(text: string, at: number): number {
  let end = at;
  while (end < text.length && text.charCodeAt(end) === BACKSPACE) end++;
  return end;
}

/** Whether the text ends in a printable ASCII character, which trimEnd would keep: most lines do. */
function endsVisible(text: string): boolean {
  if (text.length === 0) return false;
  const last = text.charCodeAt(text.length - 1);
  return last > 0x20 && last < 0x7f;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

// Every control sequence starts with ESC or CSI: a record with neither (nearly every status line)
// skips the sequence matcher, which is most of the cost of a record.
const CONTROL_START = /[\u001B\u009B]/;

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
