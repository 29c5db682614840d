import { createActor } from 'xstate';
import type { PtyBackend } from '../../actors/pty/backend.js';
import { createInlinePtyBackend } from '../../actors/pty/local-session.js';
import { nodePtyDriver } from '../../actors/pty/node-pty-driver.js';
import type { LaneId, PtyId } from '../../bus/ids.js';
import type { PtyOutcome } from '../../machines/pty.machine.js';
import type { PtyController } from './pty-controller.js';
import { PtyFactory, type PtyFactoryOptions } from './pty-factory.js';
import type { PtyOwner } from './pty-owner.js';
import type { InspectOption } from './pty-process-directory.js';
import type { PtyRegistry } from './pty-registry.js';
import type { Pty, PtyTerminateResult, SpawnPtyOptions } from './types.js';

export interface StandalonePtysOptions extends Omit<PtyFactoryOptions, 'backend'> {
  /** Default: node-pty in this process. */
  readonly backend?: PtyBackend;
  readonly inspect?: InspectOption;
}

/**
 * Runs PTYs outside any lane, each as its own root actor, never restarted: for driving the PTY
 * layer directly (tests, benchmarks). In a runtime, lanes own PTYs and supervise their restarts.
 */
export class StandalonePtys implements PtyOwner {
  readonly #factory: PtyFactory;

  constructor(private readonly options: StandalonePtysOptions) {
    this.#factory = new PtyFactory({ ...options, backend: options.backend ?? createInlinePtyBackend(nodePtyDriver) });
  }

  get registry(): PtyRegistry {
    return this.#factory.registry;
  }

  /** Resolves when the PTY is active; rejects with SPAWN_ERROR (the PTY ends errored), CAPACITY or INVALID_ARGUMENT. */
  async spawnPty(laneId: LaneId, cwd: string, options?: SpawnPtyOptions): Promise<Pty> {
    const pty = this.#factory.create(laneId, cwd, options, this);
    const actor = createActor(this.#factory.processes.machine, {
      input: { ptyId: pty.id, graceMs: this.#factory.limits.terminateGraceMs },
      ...(this.options.inspect ? { inspect: this.options.inspect } : {}),
    });
    actor.start();
    pty.attach(actor);
    await pty.started;
    return pty;
  }

  /** Running PTYs (of one lane, or all), in start order. */
  ptys(laneId?: LaneId): Pty[] {
    return this.#factory.live(laneId);
  }

  get(ptyId: PtyId): Pty | undefined {
    return this.#factory.live().find((pty) => pty.id === ptyId);
  }

  /** Terminates every running PTY (of one lane, or all) in reverse start order, one after the other. */
  async terminateAll(laneId?: LaneId, options?: { graceMs?: number }): Promise<PtyTerminateResult[]> {
    const results: PtyTerminateResult[] = [];
    for (const pty of this.ptys(laneId).reverse()) results.push(await pty.terminate(options));
    return results;
  }

  generationEnded(pty: PtyController, _outcome: PtyOutcome | undefined): void {
    pty.finish();
  }

  terminate(pty: PtyController, graceMs: number | undefined): void {
    pty.actor?.send(graceMs === undefined ? { type: 'TERMINATE' } : { type: 'TERMINATE', graceMs });
  }
}
