import { emit, enqueueActions, setup } from 'xstate';
import { laneMachine } from './lane/lane.machine.js';
import { childIdOf } from './lane/lane-context.js';
import type { LaneMachineInput } from './lane/lane-protocol.js';

/**
 * The root actor of a runtime: the parent of one lane actor per lane (`systemId` `lane:<id>`).
 * A lane that ends is stopped; a lane that fails is stopped and reported — the root itself never
 * errors because a lane did.
 */
export type RuntimeEvent =
  | { readonly type: 'START_LANE'; readonly laneId: string; readonly input: LaneMachineInput }
  | { readonly type: `xstate.done.actor.${string}`; readonly output?: unknown }
  | { readonly type: `xstate.error.actor.${string}`; readonly error: unknown };

export type RuntimeEmitted = { readonly type: 'lane_crashed'; readonly laneId: string; readonly error: unknown };

export const runtimeMachine = setup({
  types: {
    events: {} as RuntimeEvent,
    emitted: {} as RuntimeEmitted,
  },
  actors: { lane: laneMachine },
}).createMachine({
  id: 'runtime',
  on: {
    START_LANE: {
      actions: enqueueActions(({ event, enqueue }) => {
        enqueue.spawnChild('lane', { id: event.laneId, systemId: `lane:${event.laneId}`, input: event.input });
      }),
    },
    'xstate.done.actor.*': {
      actions: enqueueActions(({ event, enqueue }) => enqueue.stopChild(childIdOf(event.type))),
    },
    'xstate.error.actor.*': {
      actions: enqueueActions(({ event, enqueue }) => {
        const laneId = childIdOf(event.type);
        enqueue.stopChild(laneId);
        enqueue(emit({ type: 'lane_crashed', laneId, error: event.error }));
      }),
    },
  },
});
