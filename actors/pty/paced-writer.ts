import { LanevisorError } from '../../bus/errors.js';

/**
 * Input to a terminal: ordered, never dropped, bounded. What the terminal does not take at once
 * waits in a queue that is retried with a growing delay, so a child that stops reading costs a
 * few wake-ups a second instead of a spinning loop (node-pty #956). A write that would take the
 * queue past its bound is refused whole with BACKPRESSURE.
 */
export const DEFAULT_MAX_PENDING_INPUT_BYTES = 16 * 1024 * 1024;
/** The most offered to the terminal in one write call. */
export const WRITE_CHUNK_BYTES = 64 * 1024;
/** The first retry waits for the next loop turn; later ones back off from 1 ms up to this. */
export const WRITE_RETRY_MAX_MS = 50;

export interface InputSink {
  /** Bytes accepted now; 0 when the terminal's input buffer is full. */
  write(data: Uint8Array): number;
}

export class PacedWriter {
  readonly #sink: InputSink;
  readonly #maxPendingBytes: number;
  readonly #queue: Buffer[] = [];
  #headOffset = 0;
  #pendingBytes = 0;
  #retryDelayMs = 0;
  #timer: { readonly cancel: () => void } | undefined;
  #closed = false;

  constructor(sink: InputSink, maxPendingBytes = DEFAULT_MAX_PENDING_INPUT_BYTES) {
    this.#sink = sink;
    this.#maxPendingBytes = maxPendingBytes;
  }

  /** Bytes accepted by `write` and not yet taken by the terminal. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  write(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.byteLength === 0 || this.#closed) return;
    if (this.#pendingBytes + bytes.byteLength > this.#maxPendingBytes) {
      throw new LanevisorError(
        'BACKPRESSURE',
        `the terminal has ${this.#pendingBytes} bytes of input waiting; ${bytes.byteLength} more would pass the ${this.#maxPendingBytes}-byte bound. Wait for the program to read, then write again`,
        { details: { pendingBytes: this.#pendingBytes, maxPendingBytes: this.#maxPendingBytes } },
      );
    }
    this.#queue.push(bytes);
    this.#pendingBytes += bytes.byteLength;
    if (this.#timer === undefined) this.#flush();
  }

  /** The terminal is gone: what waits is discarded and no retry is left scheduled. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    this.#queue.length = 0;
    this.#pendingBytes = 0;
  }

  readonly #flush = (): void => {
    this.#timer = undefined;
    let progressed = false;
    while (!this.#closed && this.#queue.length > 0) {
      const head = this.#queue[0] as Buffer;
      const end = Math.min(head.byteLength, this.#headOffset + WRITE_CHUNK_BYTES);
      let written: number;
      try {
        written = this.#sink.write(head.subarray(this.#headOffset, end));
      } catch {
        // The terminal closed under us: nobody is left to read the rest.
        this.close();
        return;
      }
      if (written === 0) break;
      progressed = true;
      this.#pendingBytes -= written;
      this.#headOffset += written;
      if (this.#headOffset === head.byteLength) {
        this.#queue.shift();
        this.#headOffset = 0;
      }
    }
    if (this.#closed || this.#queue.length === 0) {
      this.#retryDelayMs = 0;
      return;
    }
    this.#retryDelayMs = progressed ? 0 : Math.min(WRITE_RETRY_MAX_MS, Math.max(1, this.#retryDelayMs * 2));
    if (this.#retryDelayMs === 0) {
      const immediate = setImmediate(this.#flush);
      this.#timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(this.#flush, this.#retryDelayMs);
      this.#timer = { cancel: () => clearTimeout(timeout) };
    }
  };

  #clearTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
