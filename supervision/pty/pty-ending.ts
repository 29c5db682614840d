import { LanevisorError } from '../../bus/errors.js';
import type { PtyId } from '../../bus/ids.js';
import { deferred } from '../deferred.js';
import type { PtyExitResult, PtyTerminateResult } from './types.js';

const NO_RESULT: PtyTerminateResult = { exitCode: null, signal: null, escalated: false };

/**
 * The promises of a PTY handle, settled by its generations: `started` by the first that becomes
 * active (or rejected when none does), `exited` and `terminated` once, when no restart follows,
 * with how the last generation ended.
 */
export class PtyEnding {
  readonly #started = deferred<void>();
  readonly #exited = deferred<PtyExitResult>();
  readonly #terminated = deferred<PtyTerminateResult>();
  #lastResult: PtyTerminateResult = NO_RESULT;
  #finished = false;

  constructor(private readonly ptyId: PtyId) {
    // The caller of started sees the rejection; nobody else must see it as unhandled.
    this.#started.promise.catch(() => undefined);
  }

  get started(): Promise<void> {
    return this.#started.promise;
  }

  get exited(): Promise<PtyExitResult> {
    return this.#exited.promise;
  }

  get terminated(): Promise<PtyTerminateResult> {
    return this.#terminated.promise;
  }

  get finished(): boolean {
    return this.#finished;
  }

  get lastResult(): PtyTerminateResult {
    return this.#lastResult;
  }

  becameActive(): void {
    this.#started.resolve();
  }

  /** How a generation ended; `failure` set when it never started or its machine failed. */
  generationEnded(result: PtyTerminateResult | undefined, failure?: string): void {
    this.#lastResult = result ?? NO_RESULT;
    if (failure !== undefined) this.#started.reject(this.#spawnError(failure));
  }

  /** No generation follows. Returns false when it was already finished. */
  finish(): boolean {
    if (this.#finished) return false;
    this.#finished = true;
    this.#started.reject(this.#spawnError('the PTY ended before it became active'));
    this.#exited.resolve({ exitCode: this.#lastResult.exitCode, signal: this.#lastResult.signal });
    this.#terminated.resolve(this.#lastResult);
    return true;
  }

  #spawnError(message: string): LanevisorError {
    return new LanevisorError('SPAWN_ERROR', message, { details: { ptyId: this.ptyId } });
  }
}
