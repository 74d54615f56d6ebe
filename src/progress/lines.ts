// Chunks from a terminal → one string per progress record. Encoders redraw their status with `\r`
// (and SVT-AV1 with `\b`), so both `\r` and `\n` end a record; ANSI colour codes are removed.
import { stripVTControlCharacters } from 'node:util';
import { Observable, type OperatorFunction } from 'rxjs';

/** Splits a stream of text chunks into records; a record cut between two chunks is joined first. */
export function splitRecords(): OperatorFunction<string, string> {
  return (chunks) =>
    new Observable<string>((subscriber) => {
      let pending = '';
      const emit = (raw: string) => {
        const line = cleanRecord(raw);
        if (line.trim() !== '') subscriber.next(line);
      };
      // Text within one record. A counter redrawn with backspaces (SVT-AV1) shows a new value at
      // each run of backspaces: what the terminal showed just before it is a record of its own.
      const extend = (text: string) => {
        if (!text.includes('\b')) {
          pending += text;
          return;
        }
        for (const piece of text.split(/(\x08+)/)) {
          if (piece === '') continue;
          if (piece[0] !== '\b') {
            pending += piece;
            continue;
          }
          emit(pending);
          const shown = stripVTControlCharacters(pending);
          pending = shown.slice(0, Math.max(0, shown.length - piece.length));
        }
      };
      const subscription = chunks.subscribe({
        next(chunk) {
          const parts = chunk.split(/\r\n|\r|\n/);
          const rest = parts.pop() ?? '';
          for (const part of parts) {
            extend(part);
            emit(pending);
            pending = '';
          }
          extend(rest);
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          if (pending !== '') emit(pending);
          pending = '';
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}

/** Removes terminal control sequences and applies backspaces, as a terminal would show the text. */
export function cleanRecord(raw: string): string {
  const text = stripVTControlCharacters(raw);
  if (!text.includes('\b')) return text.trimEnd();
  let shown = '';
  for (const char of text) {
    if (char === '\b') shown = shown.slice(0, -1);
    else shown += char;
  }
  return shown.trimEnd();
}
