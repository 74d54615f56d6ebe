// The last lines an encoder printed, kept for the job record at the run's end (and read for the
// failure's evidence): at most LOG_TAIL_LINES lines and LOG_TAIL_CHARS characters, each line cut
// at LOG_TAIL_LINE_CHARS. Progress writes leave them out: they would be most of each record a long
// encode stores twice a second, while the whole output is in the job's log as it comes.
import { LOG_TAIL_LINES } from '../../machines/job-record.js';

export const LOG_TAIL_CHARS = 16 * 1024;
export const LOG_TAIL_LINE_CHARS = 1024;

export class LogTail {
  readonly #lines: string[] = [];
  #chars = 0;
  constructor(
    private readonly maxLines = LOG_TAIL_LINES,
    private readonly maxChars = LOG_TAIL_CHARS,
  ) {}

  push(line: string): void {
    const kept = line.length > LOG_TAIL_LINE_CHARS ? `${line.slice(0, LOG_TAIL_LINE_CHARS)} …` : line;
    this.#lines.push(kept);
    this.#chars += kept.length;
    while (this.#lines.length > this.maxLines || (this.#chars > this.maxChars && this.#lines.length > 1)) {
      this.#chars -= this.#lines.shift()!.length;
    }
  }

  lines(): string[] {
    return [...this.#lines];
  }
}
