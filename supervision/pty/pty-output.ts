import { OutputBuffer } from '../../actors/pty/output-buffer.js';
import { type OutputBatch, OutputBatcher } from './output-batcher.js';

type DataListener = (chunk: string, offset: number) => void;

/**
 * Where a PTY's output goes, in order: the synchronous `onData` listeners, the buffer behind
 * `output()` and `scrollback()`, and the `pty.output` batches on the bus. A listener that throws
 * is reported once and keeps receiving; it never stops the others.
 */
export class PtyOutput {
  readonly #buffer: OutputBuffer;
  readonly #batcher: OutputBatcher;
  readonly #listeners = new Set<DataListener>();
  readonly #failedListeners = new WeakSet<DataListener>();

  constructor(
    limitBytes: number,
    onPressure: (behind: boolean) => void,
    publishBatch: (batch: OutputBatch) => void,
    private readonly reportListenerError: (error: unknown) => void,
    startOffset = 0,
  ) {
    this.#buffer = new OutputBuffer(limitBytes, onPressure, startOffset);
    this.#batcher = new OutputBatcher(publishBatch, startOffset);
  }

  get totalBytes(): number {
    return this.#buffer.totalBytes;
  }

  get droppedBytes(): number {
    return this.#buffer.droppedBytes;
  }

  get retainedBytes(): number {
    return this.#buffer.retainedBytes;
  }

  /** `bytes`: what it came from in the terminal's count (see PtySessionEvents.data); its UTF-8 length by default. */
  push(chunk: string, bytes = Buffer.byteLength(chunk, 'utf8')): void {
    const offset = this.#buffer.totalBytes;
    this.#buffer.append(chunk, bytes);
    this.#batcher.add(chunk, bytes);
    for (const listener of this.#listeners) {
      try {
        listener(chunk, offset);
      } catch (error) {
        if (this.#failedListeners.has(listener)) continue;
        this.#failedListeners.add(listener);
        this.reportListenerError(error);
      }
    }
  }

  onData(listener: DataListener): () => void {
    // A function subscribed twice gets every chunk twice, as with an event emitter.
    const entry: DataListener = (chunk, offset) => listener(chunk, offset);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Publishes what is batched now (before a resize is announced, and at exit). */
  flush(): void {
    this.#batcher.flush();
  }

  /** The last byte has been delivered: batches are flushed and pulling consumers end after reading the rest. */
  end(): void {
    this.#batcher.flush();
    this.#buffer.end();
  }

  scrollback(lastChars?: number): string {
    return lastChars === undefined ? this.#buffer.scrollback() : this.#buffer.tail(lastChars);
  }

  output(): AsyncIterable<string> {
    const buffer = this.#buffer;
    return {
      [Symbol.asyncIterator](): AsyncIterator<string> {
        const cursor = buffer.openCursor();
        let open = true;
        const finish = (): IteratorResult<string> => {
          if (open) buffer.closeCursor(cursor);
          open = false;
          return { value: undefined, done: true };
        };
        return {
          async next(): Promise<IteratorResult<string>> {
            while (open) {
              const text = buffer.read(cursor);
              if (text !== undefined) return { value: text, done: false };
              if (buffer.ended) break;
              await buffer.changed();
            }
            return finish();
          },
          async return(): Promise<IteratorResult<string>> {
            return finish();
          },
        };
      },
    };
  }
}
