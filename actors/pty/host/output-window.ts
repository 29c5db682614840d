/**
 * One PTY's output on its way to its runtime. A little output (a keystroke's echo, a prompt) goes
 * out at once: it never waits for a timer. Heavy output (OUTPUT_WINDOW_OPEN_BYTES within
 * OUTPUT_WINDOW_MS) opens a window: what follows within OUTPUT_WINDOW_MS goes into one frame
 * (up to OUTPUT_FRAME_MAX_BYTES), and the window stays open while output keeps coming, so a flood
 * costs a frame per window, not one per read. Heavy is counted over time, not per read: a PTY's
 * reads are at most 4,095 bytes (the kernel's terminal buffer), so a flood arrives as a stream of
 * reads each just under any per-read threshold, and was sent a frame per read (half the
 * throughput of raw node-pty: the runtime woke for every 4 KiB).
 */
export const OUTPUT_WINDOW_MS = 5;
export const OUTPUT_WINDOW_OPEN_BYTES = 4 * 1024;
export const OUTPUT_FRAME_MAX_BYTES = 64 * 1024;

export class OutputWindow {
  #offset = 0;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #window: NodeJS.Timeout | undefined;
  /** Output sent since `#recentFrom`, while no window is open. */
  #recentBytes = 0;
  #recentFrom = 0;

  /**
   * `write` gets each frame's reads, in order, with the byte offset of the first and their length
   * (they are written as they are, with one system call: see writeOutputFrame).
   */
  constructor(private readonly write: (offset: number, chunks: readonly Buffer[], bytes: number) => void) {}

  push(offset: number, chunk: Buffer): void {
    if (this.#chunks.length === 0) this.#offset = offset;
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
    if (this.#window !== undefined) {
      if (this.#bytes >= OUTPUT_FRAME_MAX_BYTES) this.#drain();
      return;
    }
    const now = performance.now();
    if (now - this.#recentFrom > OUTPUT_WINDOW_MS) {
      this.#recentFrom = now;
      this.#recentBytes = 0;
    }
    this.#recentBytes += chunk.byteLength;
    if (this.#recentBytes >= OUTPUT_WINDOW_OPEN_BYTES) {
      this.#recentBytes = 0;
      this.#drain();
      this.#open();
      return;
    }
    this.#drain();
  }

  /** Sends what waits (before an exit or a close, which must come after the last output). */
  flush(): void {
    this.#drain();
    this.stop();
  }

  stop(): void {
    clearTimeout(this.#window);
    this.#window = undefined;
  }

  #open(): void {
    this.#window = setTimeout(() => {
      this.#window = undefined;
      if (this.#chunks.length === 0) return;
      this.#drain();
      this.#open();
    }, OUTPUT_WINDOW_MS);
  }

  #drain(): void {
    if (this.#chunks.length === 0) return;
    const chunks = this.#chunks;
    const bytes = this.#bytes;
    this.#chunks = [];
    this.#bytes = 0;
    this.write(this.#offset, chunks, bytes);
  }
}
