// The last N lines an encoder printed, kept for the job record.
import { LOG_TAIL_LINES } from '../../machines/job-record.js';

export class LogTail {
  readonly #lines: string[] = [];
  constructor(private readonly limit = LOG_TAIL_LINES) {}

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.limit) this.#lines.shift();
  }

  lines(): string[] {
    return [...this.#lines];
  }
}
