import type { CliIo } from './io.js';

/** The exit code a shell reports for a process ended by these signals. */
export const EXIT_CODE_OF_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof EXIT_CODE_OF_SIGNAL;

/**
 * SIGINT and SIGTERM for a command that must stop cleanly: caught from the moment it is made (so
 * no moment of a command is deaf to Ctrl-C), the first one asks the command to stop (its
 * listeners end terminals, skip what is not started, clean up), a second one leaves at once:
 * whatever is left is recorded, and the next runtime's reconciliation finishes it.
 */
export class StopSignals {
  #signal: StopSignal | undefined;
  readonly #listeners = new Set<(signal: StopSignal) => void>();
  readonly #handlers: Array<[StopSignal, () => void]>;

  constructor(
    private readonly io: CliIo,
    /** What a person should know the first signal does. */
    private readonly stopping: string,
  ) {
    this.#handlers = (Object.keys(EXIT_CODE_OF_SIGNAL) as StopSignal[]).map((signal) => [
      signal,
      () => this.#received(signal),
    ]);
    for (const [signal, handler] of this.#handlers) process.on(signal, handler);
  }

  /** The first signal received, if any. */
  get signal(): StopSignal | undefined {
    return this.#signal;
  }

  /** 130 or 143 once a signal came, else undefined. */
  get exitCode(): number | undefined {
    return this.#signal === undefined ? undefined : EXIT_CODE_OF_SIGNAL[this.#signal];
  }

  /** `listener` runs at the first signal (at once if it already came); returns the undo. */
  onStop(listener: (signal: StopSignal) => void): () => void {
    if (this.#signal !== undefined) listener(this.#signal);
    else this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dispose(): void {
    for (const [signal, handler] of this.#handlers) process.off(signal, handler);
    this.#listeners.clear();
  }

  #received(signal: StopSignal): void {
    if (this.#signal !== undefined) {
      this.io.stderr('lanevisor: stopped without waiting; `lanevisor reconcile` finishes what was left\n');
      process.exit(EXIT_CODE_OF_SIGNAL[this.#signal]);
    }
    this.#signal = signal;
    this.io.stderr(`lanevisor: ${signal}: ${this.stopping} (again to leave at once)\n`);
    for (const listener of this.#listeners) listener(signal);
    this.#listeners.clear();
  }
}
