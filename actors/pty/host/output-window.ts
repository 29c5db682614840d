/**
 * One PTY's output on its way to its runtime. A little output (a keystroke's echo, a prompt) goes
 * out at once: it never waits for a timer. Heavy output (OUTPUT_WINDOW_OPEN_CHARS within
 * OUTPUT_WINDOW_MS) opens a window: what follows within OUTPUT_WINDOW_MS is joined into one frame
 * (up to OUTPUT_FRAME_MAX_CHARS), and the window stays open while output keeps coming, so a flood
 * costs a frame per window, not one per read. Heavy is counted over time, not per read: a PTY's
 * reads are at most 4,095 bytes (the kernel's terminal buffer), so a flood arrives as a stream of
 * reads each just under any per-read threshold, and was sent a frame per read (half the
 * throughput of raw node-pty: the runtime woke for every 4 KiB).
 */
export const OUTPUT_WINDOW_MS = 5;
export const OUTPUT_WINDOW_OPEN_CHARS = 4 * 1024;
export const OUTPUT_FRAME_MAX_CHARS = 64 * 1024;

export class OutputWindow {
  #offset = 0;
  #chunks: string[] = [];
  #chars = 0;
  #window: NodeJS.Timeout | undefined;
  /** Output sent since `#recentFrom`, while no window is open. */
  #recentChars = 0;
  #recentFrom = 0;

  /** `write` gets each frame's text and the byte offset of its first byte. */
  constructor(private readonly write: (offset: number, data: string) => void) {}

  push(offset: number, chunk: string): void {
    if (this.#chunks.length === 0) this.#offset = offset;
    this.#chunks.push(chunk);
    this.#chars += chunk.length;
    if (this.#window !== undefined) {
      if (this.#chars >= OUTPUT_FRAME_MAX_CHARS) this.#drain();
      return;
    }
    const now = performance.now();
    if (now - this.#recentFrom > OUTPUT_WINDOW_MS) {
      this.#recentFrom = now;
      this.#recentChars = 0;
    }
    this.#recentChars += chunk.length;
    if (this.#recentChars >= OUTPUT_WINDOW_OPEN_CHARS) {
      this.#recentChars = 0;
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
    const data = this.#chunks.length === 1 ? (this.#chunks[0] as string) : this.#chunks.join('');
    this.#chunks = [];
    this.#chars = 0;
    this.write(this.#offset, data);
  }
}
