// A job's full output log, capped at a size: when it grows past the cap, the oldest output is
// dropped from the front (the newest half is kept, from a line start) behind a marker line that
// says how much went, so a job printing without end can't fill the disk. Files are 0600: output
// can hold whatever the job's environment held.
import { type WriteStream, createWriteStream, statSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import { PRIVATE_FILE } from '../data-folder.js';

// A log is for people and for the failure check after the exit (which waits for `end`): at most
// one write this often, not one trip to the file system's threads per read. An encoder printing a
// line every few milliseconds would otherwise cost the daemon more than the rest of its job does.
// The first lines after a quiet spell go out at once, so output that comes at most this often
// (ffmpeg's status line, twice a second) costs a write each and no timer: on a busy box a wake-up
// costs more than the write.
const GATHER_MS = 400;
// Written at once past this much held, whatever the time: a burst is not kept in memory.
const GATHER_BYTES = 64 * 1024;

export class JobLogFile {
  /** Opened at the first output: a job that prints nothing (most short jobs) costs no file. */
  #stream: WriteStream | null = null;
  #bytes = 0;
  #dropped = 0;
  /** Lines that arrive while the file is being trimmed; bounded like the file itself. */
  #held: string[] | null = null;
  #heldBytes = 0;
  /** Bytes of held lines dropped: said where they were, so a gap in the log is never silent. */
  #heldDropped = 0;
  #done: Promise<void> = Promise.resolve();
  /** Bytes this run wrote: the end of the file that is its own (the log holds every attempt). */
  written = 0;

  /** When the last write went out (performance.now()). */
  #wroteAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly onError: (error: unknown) => void,
    private readonly gatherMs = GATHER_MS,
  ) {}

  /** The records of one read: written at once, or with the others that come within `gatherMs` of the last write. */
  writeLines(lines: readonly string[]): void {
    if (lines.length === 0) return;
    if (this.#held) {
      for (const line of lines) {
        const text = `${line}\n`;
        const bytes = Buffer.byteLength(text);
        this.written += bytes;
        this.#held.push(text);
        this.#heldBytes += bytes;
      }
      while (this.#heldBytes > this.maxBytes / 2 && this.#held.length > 1) {
        const bytes = Buffer.byteLength(this.#held.shift()!);
        this.#heldBytes -= bytes;
        this.#heldDropped += bytes;
      }
      return;
    }
    const text = lines.length === 1 ? `${lines[0]}\n` : `${lines.join('\n')}\n`;
    const bytes = Buffer.byteLength(text);
    this.written += bytes;
    const stream = (this.#stream ??= this.#openFirst());
    this.#gather(stream);
    stream.write(text);
    this.#bytes += bytes;
    if (stream.writableLength >= GATHER_BYTES) stream.uncork();
    if (this.#bytes > this.maxBytes) this.#trim();
  }

  /**
   * Lets the write through at once when the last went out `gatherMs` ago or more; else holds the
   * stream's writes until then (ending the stream writes them too).
   */
  #gather(stream: WriteStream): void {
    if (stream.writableCorked > 0) return;
    const nowMs = performance.now();
    const waitMs = this.#wroteAtMs + this.gatherMs - nowMs;
    // Writes made before the file is open go out together once it is: a cork now would hold them.
    if (waitMs <= 0 || stream.pending) {
      this.#wroteAtMs = nowMs;
      return;
    }
    stream.cork();
    setTimeout(() => {
      while (stream.writableCorked > 0) stream.uncork();
      this.#wroteAtMs = performance.now();
    }, waitMs).unref();
  }

  /** Resolves once everything written so far is in the file. */
  async end(): Promise<void> {
    await this.#done;
    const stream = this.#stream;
    if (stream !== null) await new Promise<void>((resolve) => stream.end(resolve));
  }

  /** The log may hold earlier attempts' output: the cap counts it. */
  #openFirst(): WriteStream {
    this.#bytes = sizeOf(this.path);
    return this.#open();
  }

  #open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: 'a', mode: PRIVATE_FILE });
    stream.on('error', this.onError);
    return stream;
  }

  #trim(): void {
    this.#held = [];
    this.#heldBytes = 0;
    const closing = this.#stream!;
    this.#done = new Promise<void>((resolve) => closing.end(resolve))
      .then(() => this.#keepNewestHalf())
      .catch(this.onError)
      .finally(() => {
        this.#stream = this.#open();
        const held = this.#held ?? [];
        this.#held = null;
        if (this.#heldDropped > 0) held.unshift(`[encsup: ${this.#heldDropped} bytes of output were dropped here to keep this log under ${this.maxBytes} bytes]\n`);
        this.#heldDropped = 0;
        for (const text of held) {
          this.#stream.write(text);
          this.#bytes += Buffer.byteLength(text);
        }
      });
  }

  async #keepNewestHalf(): Promise<void> {
    const keep = Math.floor(this.maxBytes / 2);
    const file = await open(this.path, 'r');
    let tail: Buffer;
    try {
      const { size } = await file.stat();
      const start = Math.max(0, size - keep);
      tail = Buffer.alloc(size - start);
      await file.read(tail, 0, tail.length, start);
      this.#dropped += start;
    } finally {
      await file.close();
    }
    // Start at a whole line, so the first kept line is not half a line.
    const firstLine = tail.indexOf(10);
    const body = firstLine >= 0 && firstLine < tail.length - 1 ? tail.subarray(firstLine + 1) : tail;
    const marker = Buffer.from(`[encsup: ${this.#dropped} bytes of earlier output were dropped to keep this log under ${this.maxBytes} bytes]\n`);
    const temporary = `${this.path}.trim`;
    await writeFile(temporary, Buffer.concat([marker, body]), { mode: PRIVATE_FILE });
    await rename(temporary, this.path);
    this.#bytes = marker.length + body.length;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
