import type { CliIo } from './io.js';

/** The exit code a shell reports for a process ended by these signals. */
export const EXIT_CODE_OF_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;
/**
 * A command whose output's reader went away (`lanevisor logs -f x | head`) ends as SIGPIPE ends a
 * Unix tool, and reports what a shell reports for that: 128 + 13. Node ignores SIGPIPE, so the
 * closed pipe shows as a failed write (EPIPE, see process-io.ts); SIGPIPE is not listened to,
 * since a listener would make one closed pipe arrive twice, as a signal and as that failure.
 */
export const EXIT_CODE_OUTPUT_CLOSED = 141;
export type StopSignal = keyof typeof EXIT_CODE_OF_SIGNAL | 'SIGPIPE';

/**
 * SIGINT and SIGTERM for a command that must stop cleanly: caught from the moment it is made (so
 * no moment of a command is deaf to Ctrl-C), the first one asks the command to stop (its
 * listeners end terminals, skip what is not started, clean up), a second one leaves at once:
 * whatever is left is recorded, and the next runtime's reconciliation finishes it. Output whose
 * reader went away (CliIo.onOutputClosed) stops it as a first signal does; after a signal it
 * changes nothing (Ctrl-C in `lanevisor run … | grep x` ends grep too, and that must not count
 * as the second Ctrl-C that leaves without cleaning up).
 */
export class StopSignals {
  #signal: StopSignal | undefined;
  readonly #listeners = new Set<(signal: StopSignal) => void>();
  readonly #handlers: Array<[keyof typeof EXIT_CODE_OF_SIGNAL, () => void]>;
  readonly #unwatchOutput: (() => void) | undefined;

  constructor(
    private readonly io: CliIo,
    /** What a person should know the first signal does. */
    private readonly stopping: string,
  ) {
    this.#handlers = (Object.keys(EXIT_CODE_OF_SIGNAL) as Array<keyof typeof EXIT_CODE_OF_SIGNAL>).map((signal) => [
      signal,
      () => this.#received(signal),
    ]);
    for (const [signal, handler] of this.#handlers) process.on(signal, handler);
    this.#unwatchOutput = io.onOutputClosed?.(() => {
      if (this.#signal === undefined) this.#received('SIGPIPE');
    });
  }

  /** The first signal received, if any. */
  get signal(): StopSignal | undefined {
    return this.#signal;
  }

  /** 130, 143 or 141 once a signal came or the output was closed, else undefined. */
  get exitCode(): number | undefined {
    return this.#signal === undefined ? undefined : exitCodeOfStop(this.#signal);
  }

  /** `listener` runs at the first signal (at once if it already came); returns the undo. */
  onStop(listener: (signal: StopSignal) => void): () => void {
    if (this.#signal !== undefined) listener(this.#signal);
    else this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dispose(): void {
    for (const [signal, handler] of this.#handlers) process.off(signal, handler);
    this.#unwatchOutput?.();
    this.#listeners.clear();
  }

  #received(signal: StopSignal): void {
    if (this.#signal !== undefined) {
      this.io.stderr('lanevisor: stopped without waiting; `lanevisor reconcile` finishes what was left\n');
      process.exit(exitCodeOfStop(this.#signal));
    }
    this.#signal = signal;
    this.io.stderr(
      signal === 'SIGPIPE'
        ? `lanevisor: the output was closed: ${this.stopping}\n`
        : `lanevisor: ${signal}: ${this.stopping} (again to leave at once)\n`,
    );
    for (const listener of this.#listeners) listener(signal);
    this.#listeners.clear();
  }
}

function exitCodeOfStop(signal: StopSignal): number {
  return signal === 'SIGPIPE' ? EXIT_CODE_OUTPUT_CLOSED : EXIT_CODE_OF_SIGNAL[signal];
}
