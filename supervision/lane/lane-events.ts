import type { LaneId } from '../../bus/ids.js';
import type { LifecyclePayload, LifecycleTopic } from '../../bus/lifecycle.js';
import { type LaneSnapshot, laneStateOf } from '../../machines/lane/lane.machine.js';
import type { LaneState as MachineLaneState } from '../../machines/lane/lane-protocol.js';
import type { LaneState } from './types.js';

/** The bus's list of lane states and the machine's are written twice (layers); this fails to compile if they differ. */
const statesAgree: [LaneState, MachineLaneState] extends [MachineLaneState, LaneState] ? true : false = true;
void statesAgree;

export type Publish = <T extends LifecycleTopic>(
  topic: T,
  payload: LifecyclePayload<T>,
  correlationId?: string,
) => void;

/**
 * Turns successive snapshots of a lane machine into lifecycle events: state changes (with the
 * block reason), agents attached and detached, sharing, the start of a cleanup. Each carries the
 * correlation id of the operation the lane was working for.
 */
export class LaneEventPublisher {
  #state: LaneState = 'new';
  #agents: readonly string[];
  #shared: boolean;

  constructor(
    private readonly laneId: LaneId,
    private readonly publish: Publish,
    initialAgents: readonly string[],
    initiallyShared = false,
  ) {
    this.#agents = initialAgents;
    this.#shared = initiallyShared;
  }

  get state(): LaneState {
    return this.#state;
  }

  observe(snapshot: LaneSnapshot): void {
    const { context } = snapshot;
    const correlationId = context.correlationId;
    const laneId = this.laneId;
    for (const agentId of context.agents) {
      if (!this.#agents.includes(agentId)) this.publish('lane.agent_attached', { laneId, agentId }, correlationId);
    }
    const stopping = snapshot.matches('stopping') || snapshot.matches('cleaning');
    for (const agentId of this.#agents) {
      if (!context.agents.includes(agentId)) {
        this.publish(
          'lane.agent_detached',
          { laneId, agentId, reason: stopping ? 'cleanup' : 'detached' },
          correlationId,
        );
      }
    }
    this.#agents = context.agents;
    if (context.shared && !this.#shared) this.publish('lane.shared', { laneId }, correlationId);
    this.#shared = context.shared;
    const next = laneStateOf(snapshot);
    if (next === this.#state) return;
    const from = this.#state;
    this.#state = next;
    if (next === 'cleaning') this.publish('lane.cleaning', { laneId, discard: context.discard }, correlationId);
    const reason = next === 'blocked' && context.blockReason !== null ? { reason: context.blockReason } : {};
    this.publish('lane.state_changed', { laneId, from, to: next, ...reason }, correlationId);
  }
}
