/**
 * Notices a PTY that produced no output for `idleMs`: one lazily re-armed timer, not one per
 * chunk, so the output path only records the time of the last chunk.
 */
export class IdleWatch {
  #lastOutputAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly idleMs: number | null,
    /** Called when the silence reaches idleMs; the watch keeps running. */
    private readonly onIdle: () => void,
  ) {}

  /** Milliseconds since the last output (or since the start). */
  get silentForMs(): number {
    return performance.now() - this.#lastOutputAt;
  }

  start(): void {
    this.#lastOutputAt = performance.now();
    this.#arm();
  }

  /** Output arrived. */
  touch(): void {
    this.#lastOutputAt = performance.now();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    const idleMs = this.idleMs;
    if (idleMs === null || this.#stopped) return;
    const due = Math.max(0, idleMs - this.silentForMs);
    this.#timer = setTimeout(() => {
      if (this.#stopped) return;
      if (this.silentForMs >= idleMs) this.onIdle();
      this.#arm();
    }, due || idleMs);
    this.#timer.unref();
  }
}
