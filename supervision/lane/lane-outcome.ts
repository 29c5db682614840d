import { LanevisorError } from '../../bus/errors.js';
import { type Deferred, deferred } from '../deferred.js';
import type { CleanupReport, LaneState } from './types.js';

/**
 * What callers of one lane wait on: `ready` (createLane), the cleanup report, the lane's end. A
 * provisioning failure rejects `ready` once its rollback is over, or as soon as the rollback
 * stalls, so that createLane never waits on a cleanup that needs a person; `lane.failed` is
 * published once either way.
 */
export class LaneOutcome {
  readonly #ready = deferred<void>();
  readonly #closed = deferred<LaneState>();
  #cleanup: Deferred<CleanupReport> | undefined;
  #provisioningFailure: LanevisorError | undefined;
  #failurePublished = false;

  constructor(
    private readonly laneId: string,
    private readonly publishFailure: (failure: LanevisorError) => void,
  ) {
    this.#ready.promise.catch(() => undefined);
  }

  /** Resolves when the lane is first active; rejects with the provisioning failure. */
  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Resolves with the lane's last state when its actor is done. */
  get done(): Promise<LaneState> {
    return this.#closed.promise;
  }

  /** The cleanup under way (or finished), if one was asked for and has not failed. */
  get cleanup(): Promise<CleanupReport> | undefined {
    return this.#cleanup?.promise;
  }

  startCleanup(): Promise<CleanupReport> {
    this.#cleanup = deferred<CleanupReport>();
    return this.#cleanup.promise;
  }

  becameActive(): void {
    this.#ready.resolve();
  }

  /** The first failure is kept; `failure` is only asked for then. */
  provisioningFailed(failure: () => LanevisorError): void {
    this.#provisioningFailure ??= failure();
  }

  /** A cleanup step failed: this cleanup rejects, and the next `cleanup()` resumes from the step. */
  cleanupStalled(failure: LanevisorError): void {
    this.#cleanup?.reject(failure);
    this.#cleanup = undefined;
    const provisioning = this.#provisioningFailure;
    if (provisioning === undefined) return;
    this.announceProvisioningFailure();
    this.#ready.reject(
      new LanevisorError(
        provisioning.code,
        `${provisioning.message}; then rolling back what it made failed (call lane.cleanup() to retry): ${failure.message}`,
        { cause: provisioning, details: { laneId: this.laneId } },
      ),
    );
  }

  /** Publishes `lane.failed` for a failed provisioning (once; nothing when provisioning did not fail). */
  announceProvisioningFailure(): void {
    if (this.#provisioningFailure) this.#publishFailureOnce(this.#provisioningFailure);
  }

  /** The lane actor is done: closed (with its cleanup report) or suspended by a shutdown. */
  finished(state: LaneState, report: CleanupReport | null): void {
    if (report !== null) {
      this.#cleanup ??= deferred<CleanupReport>();
      this.#cleanup.resolve(report);
    }
    this.#ready.reject(
      this.#provisioningFailure ??
        new LanevisorError('INVALID_STATE', `lane ${this.laneId} was cleaned up before it was ready`),
    );
    this.#closed.resolve(state);
  }

  /** The lane actor itself failed: everyone waiting is told. */
  crashed(failure: LanevisorError, state: LaneState): void {
    this.#publishFailureOnce(failure);
    this.#cleanup?.reject(failure);
    this.#ready.reject(failure);
    this.#closed.resolve(state);
  }

  #publishFailureOnce(failure: LanevisorError): void {
    if (this.#failurePublished) return;
    this.#failurePublished = true;
    this.publishFailure(failure);
  }
}
