/**
 * Joins output into `pty.output` events: one per OUTPUT_BATCH_MS or per OUTPUT_BATCH_MAX_CHARS,
 * flushed at once on resize and exit, so the bus carries batches, not one event per chunk.
 */
export const OUTPUT_BATCH_MS = 5;
/** Keeps a batch well under the bus's 1 MiB payload limit even when every character escapes to 6 bytes. */
export const OUTPUT_BATCH_MAX_CHARS = 128 * 1024;

export interface OutputBatch {
  readonly data: string;
  /** Byte offset of the batch's first byte in the whole output. */
  readonly offset: number;
  readonly bytes: number;
}

export class OutputBatcher {
  #data = '';
  #offset = 0;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly publish: (batch: OutputBatch) => void,
    startOffset = 0,
  ) {
    this.#offset = startOffset;
  }

  /**
   * A batch stays within OUTPUT_BATCH_MAX_CHARS unless one chunk is longer (a host's frames are at
   * most 68 Ki characters): past it the bus's size bound straddles its limit, and it serializes the
   * whole payload to measure it (a third of a runtime's time in a flood through the terminal host).
   */
  add(chunk: string, bytes: number): void {
    if (this.#data.length > 0 && this.#data.length + chunk.length > OUTPUT_BATCH_MAX_CHARS) this.flush();
    this.#data += chunk;
    this.#bytes += bytes;
    if (this.#data.length >= OUTPUT_BATCH_MAX_CHARS) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), OUTPUT_BATCH_MS);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#data.length === 0) return;
    const batch = { data: this.#data, offset: this.#offset, bytes: this.#bytes };
    this.#offset += this.#bytes;
    this.#data = '';
    this.#bytes = 0;
    this.publish(batch);
  }
}
