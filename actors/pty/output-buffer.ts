/**
 * A terminal's output, kept in order: the recent scrollback (at most `limitBytes`, oldest dropped
 * and counted) and whatever pulling consumers (cursors) have not read yet. A cursor that falls
 * `limitBytes` behind raises the pressure flag, on which the PTY stops reading its terminal, so
 * what a cursor has not read is never dropped; the flag falls when every cursor is back within
 * OUTPUT_RESUME_FRACTION of the limit.
 */
export const DEFAULT_OUTPUT_BUFFER_BYTES = 4 * 1024 * 1024;
/** Reading resumes once the slowest cursor is this fraction of the limit behind, or less. */
export const OUTPUT_RESUME_FRACTION = 0.25;
/** The most characters one pull returns (chunks are joined up to it). */
export const MAX_PULL_CHARS = 256 * 1024;

interface Chunk {
  readonly text: string;
  readonly bytes: number;
  /** Absolute byte offset of the chunk's first byte. */
  readonly start: number;
}

/** A pulling consumer's position: the sequence number of the next chunk it reads. */
export interface OutputCursor {
  next: number;
}

export class OutputBuffer {
  readonly #limitBytes: number;
  readonly #onPressure: (behind: boolean) => void;
  readonly #chunks: Chunk[] = [];
  /** Sequence number of #chunks[0]. */
  #firstSeq = 0;
  #totalBytes = 0;
  #retainedBytes = 0;
  #droppedBytes = 0;
  #behind = false;
  #ended = false;
  readonly #cursors = new Set<OutputCursor>();
  #waiters: (() => void)[] = [];

  /** `startOffset`: the offset of the first byte it will hold (an adopted PTY's output goes on where it was). */
  constructor(limitBytes: number, onPressure: (behind: boolean) => void, startOffset = 0) {
    this.#limitBytes = limitBytes;
    this.#onPressure = onPressure;
    this.#totalBytes = startOffset;
  }

  /** Bytes ever appended (after the start offset). */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  get retainedBytes(): number {
    return this.#retainedBytes;
  }

  /** Scrollback bytes dropped because nobody needed them and the limit was reached. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** `bytes` is the chunk's UTF-8 length (Buffer.byteLength), computed once by the caller. */
  append(text: string, bytes: number): void {
    if (this.#ended || text.length === 0) return;
    this.#chunks.push({ text, bytes, start: this.#totalBytes });
    this.#totalBytes += bytes;
    this.#retainedBytes += bytes;
    this.#trim();
    if (!this.#behind && this.#maxLag() >= this.#limitBytes) this.#setBehind(true);
    this.#wake();
  }

  /** No more output will come: cursors end once they have read everything. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** A cursor at the oldest retained byte: made right after spawn, it misses nothing. */
  openCursor(): OutputCursor {
    const cursor = { next: this.#firstSeq };
    this.#cursors.add(cursor);
    return cursor;
  }

  closeCursor(cursor: OutputCursor): void {
    if (!this.#cursors.delete(cursor)) return;
    this.#trim();
    this.#releasePressure();
  }

  /** What the cursor has not read (joined, up to MAX_PULL_CHARS), or undefined when it is up to date. */
  read(cursor: OutputCursor): string | undefined {
    const nextSeq = this.#firstSeq + this.#chunks.length;
    if (cursor.next >= nextSeq) return undefined;
    let text = '';
    let seq = Math.max(cursor.next, this.#firstSeq);
    do {
      text += (this.#chunks[seq - this.#firstSeq] as Chunk).text;
      seq++;
    } while (
      seq < nextSeq &&
      text.length + (this.#chunks[seq - this.#firstSeq] as Chunk).text.length <= MAX_PULL_CHARS
    );
    cursor.next = seq;
    this.#trim();
    this.#releasePressure();
    return text;
  }

  /** Resolves on the next append or on the end. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The retained recent output, at most `limitBytes` (cut at a character boundary). */
  scrollback(): string {
    let text = '';
    for (const chunk of this.#chunks) text += chunk.text;
    if (this.#retainedBytes <= this.#limitBytes) return text;
    const bytes = Buffer.from(text, 'utf8');
    let from = bytes.byteLength - this.#limitBytes;
    // Skip UTF-8 continuation bytes (10xxxxxx) so no character is cut in half.
    while (from < bytes.byteLength && ((bytes[from] as number) & 0xc0) === 0x80) from++;
    return bytes.subarray(from).toString('utf8');
  }

  /** The last `maxChars` characters retained (fewer when less is held): a peek that copies little. */
  tail(maxChars: number): string {
    let text = '';
    for (let index = this.#chunks.length - 1; index >= 0 && text.length < maxChars; index--) {
      text = (this.#chunks[index] as Chunk).text + text;
    }
    return text.length > maxChars ? text.slice(text.length - maxChars) : text;
  }

  #maxLag(): number {
    let oldest = this.#firstSeq + this.#chunks.length;
    for (const cursor of this.#cursors) oldest = Math.min(oldest, cursor.next);
    const index = oldest - this.#firstSeq;
    return index < this.#chunks.length ? this.#totalBytes - (this.#chunks[index] as Chunk).start : 0;
  }

  /** Drops the oldest chunks beyond the limit that no cursor still needs; the newest chunk always stays. */
  #trim(): void {
    let protectedSeq = this.#firstSeq + this.#chunks.length - 1;
    for (const cursor of this.#cursors) protectedSeq = Math.min(protectedSeq, cursor.next);
    while (this.#retainedBytes > this.#limitBytes && this.#firstSeq < protectedSeq) {
      const dropped = this.#chunks.shift() as Chunk;
      this.#firstSeq++;
      this.#retainedBytes -= dropped.bytes;
      this.#droppedBytes += dropped.bytes;
    }
  }

  #releasePressure(): void {
    if (this.#behind && this.#maxLag() <= this.#limitBytes * OUTPUT_RESUME_FRACTION) this.#setBehind(false);
  }

  #setBehind(behind: boolean): void {
    this.#behind = behind;
    this.#onPressure(behind);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
