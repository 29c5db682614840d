import type { CleanupReport } from './types.js';

/**
 * A lane's cleanup report, gathered as the cleanup goes: when it was asked for, how many PTYs
 * were running then, and what lanevisor.json's teardown said.
 */
export class CleanupTally {
  #startedAt = 0;
  #ptysStopped = 0;
  #teardown: CleanupReport['teardown'];

  /** The cleanup was asked for, with this many PTYs running. */
  started(ptysRunning: number): void {
    this.#startedAt = performance.now();
    this.#ptysStopped = ptysRunning;
  }

  tornDown(teardown: CleanupReport['teardown']): void {
    this.#teardown = teardown;
  }

  /** The report, once the lane is closed (a lane closed without being asked took no time). */
  report(
    lane: { readonly laneId: CleanupReport['laneId']; readonly branch: string },
    outcome: { readonly branchKept: boolean; readonly salvagedRef: string | null },
  ): CleanupReport {
    return {
      laneId: lane.laneId,
      branch: lane.branch,
      branchKept: outcome.branchKept,
      salvagedRef: outcome.salvagedRef,
      ptysStopped: this.#ptysStopped,
      durationMs: Math.round(this.#startedAt === 0 ? 0 : performance.now() - this.#startedAt),
      ...(this.#teardown === undefined ? {} : { teardown: this.#teardown }),
    };
  }
}
