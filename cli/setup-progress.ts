import type { EventEnvelope, Lane } from '../index.js';

/**
 * How far each lane's setup has come, from `lane.setup_step`: what `run` and `demo` show in the
 * STATE column of a lane being made (`setup 2/5`, the last step that ended of five).
 */
export class SetupProgress {
  readonly #steps = new Map<string, string>();

  /** Takes note of a setup step; any other event is ignored. */
  observe(event: EventEnvelope): void {
    if (event.topic !== 'lane.setup_step') return;
    const { laneId, index, total } = event.payload as { laneId: string; index: number; total: number };
    this.#steps.set(laneId, `${index}/${total}`);
  }

  /** The lane's state as a person reads it: `setup 2/5` while it is provisioning past a step, else its state. */
  stateOf(lane: Pick<Lane, 'id' | 'state'>): string {
    const step = this.#steps.get(lane.id);
    return lane.state === 'provisioning' && step !== undefined ? `setup ${step}` : lane.state;
  }
}
