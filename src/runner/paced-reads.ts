// An encoder's output, read at most about once per READ_GAP_MS while it comes in small pieces.
// Every read wakes the daemon, and beside encoders that keep every core busy a wake-up costs more
// than what it reads (cold caches, an encoder preempted): ffmpeg writes its banner, each info line
// and each stats line with a write of its own, some 130 for an encode of a second. So a small read
// that follows another within READ_GAP_MS stops the reading (libuv's readStop) until READ_GAP_MS
// later, and what the encoder writes meanwhile waits in the kernel's buffer to be taken in one
// read. A read after a quiet spell is passed on at once and reading goes on (a status line twice
// a second costs one wake-up each), and so does a large read: output that fills the buffer is
// never held back, or the kernel would block the writer. Each read is decoded as UTF-8, a
// character cut between reads kept whole.
import type { OnReadOpts, Socket, SocketConstructorOpts } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

export const READ_GAP_MS = 40;
// The most one read takes in: a burst is handed on in pieces of this size, not held.
const READ_BYTES = 64 * 1024;
// A read this large is output coming fast in bulk (a terminal hands over at most 4 KiB a read):
// reading goes on. ffmpeg's pieces are 50 to 1,600 bytes.
const SMALL_READ_BYTES = 2048;

/** Whether reading waits before the next read: a small read soon after the one before. */
export function waitsBeforeNextRead(sinceLastReadMs: number, bytes: number, gapMs = READ_GAP_MS): boolean {
  return sinceLastReadMs < gapMs && bytes < SMALL_READ_BYTES;
}

/** A socket's options with the `onread` that Node takes at construction (its types list it for connect only). */
export type OnReadSocketOptions = SocketConstructorOpts & { onread: OnReadOpts };

export interface PacedReads<S extends Socket> {
  socket: S;
  /** From now on each read is taken as it comes: the process has exited, and its last words should not wait. */
  readFreely(): void;
}

/**
 * Opens the socket through `open` (which passes the options on to its constructor) and reads it,
 * paced as above, handing each read's text to `onText`.
 */
export function readPaced<S extends Socket>(open: (options: OnReadSocketOptions) => S, onText: (text: string) => void, gapMs = READ_GAP_MS): PacedReads<S> {
  const decoder = new StringDecoder('utf8');
  let lastReadMs = Number.NEGATIVE_INFINITY;
  let paced = true;
  let paused: NodeJS.Timeout | null = null;
  const resume = () => {
    if (paused !== null) clearTimeout(paused);
    paused = null;
    if (!socket.destroyed) socket.resume();
  };
  const socket = open({
    onread: {
      buffer: Buffer.allocUnsafe(READ_BYTES),
      callback: (bytes, buffer) => {
        const text = decoder.write(buffer.subarray(0, bytes));
        const now = performance.now();
        const waits = paced && waitsBeforeNextRead(now - lastReadMs, bytes, gapMs);
        lastReadMs = now;
        if (text !== '') onText(text);
        if (!waits || socket.destroyed) return true;
        // Returning false stops the reading; resume() starts it again.
        paused = setTimeout(resume, gapMs);
        return false;
      },
    },
  });
  socket.resume();
  return {
    socket,
    readFreely: () => {
      paced = false;
      if (paused !== null) resume();
    },
  };
}
