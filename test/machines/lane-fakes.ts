import {
  type AnyStateMachine,
  type AnyStateNode,
  createActor,
  createMachine,
  fromCallback,
  fromPromise,
  SimulatedClock,
} from 'xstate';
import { type CleanupStepOutput, laneMachine } from '../../machines/lane/lane.machine.js';
import type { LaneEvent } from '../../machines/lane/lane-protocol.js';
import type { PtyOutcome } from '../../machines/pty.machine.js';

/**
 * The lane machine with inert effects, for tests of its decisions only: every provided actor
 * waits forever, and the test delivers their endings as events. The real effects are tested with
 * real git repositories and PTYs in test/supervision/lane.
 */
const never = <T>() => new Promise<T>(() => undefined);

/** The lane machine with inert effects and the given stand-in for its PTY children. */
export function inertLaneLogic(ptyChild: AnyStateMachine = createMachine({})) {
  return laneMachine.provide({
    actors: {
      provision: fromPromise(never<void>),
      pty: ptyChild as never,
      exec: fromPromise(never<void>),
      taskWatch: fromCallback(() => undefined),
      stopTask: fromPromise(never<void>),
      salvage: fromPromise(never<CleanupStepOutput>),
      removeWorktree: fromPromise(never<void>),
      removeBranch: fromPromise(never<CleanupStepOutput>),
      removeRecord: fromPromise(never<void>),
    },
  });
}

export const inertLaneMachine = inertLaneLogic();

export const INTENSITY = { maxRestarts: 2, periodMs: 1_000 };

type Inspect = (event: import('xstate').InspectionEvent) => void;

export function startLane(
  clock = new SimulatedClock(),
  inspect?: Inspect,
  resumeAs?: 'ready' | 'cleaning',
  discard?: boolean,
) {
  const actor = createActor(inertLaneMachine, {
    input: {
      laneId: 'lane_model0000000000',
      correlationId: 'cor_model',
      restartIntensity: INTENSITY,
      ...(resumeAs ? { resumeAs } : {}),
      ...(discard === undefined ? {} : { discard }),
    },
    clock,
    ...(inspect ? { inspect } : {}),
  });
  actor.start();
  return actor;
}

export const outcome = (ptyId: string, reason: PtyOutcome['reason'], terminateRequested = false): PtyOutcome => ({
  ptyId,
  reason,
  exit: null,
  failure: null,
  terminateRequested,
});

export const done = (childId: string, output?: unknown) =>
  ({ type: `xstate.done.actor.${childId}`, output }) as LaneEvent;
export const failed = (childId: string) =>
  ({ type: `xstate.error.actor.${childId}`, error: new Error(`${childId} failed`) }) as LaneEvent;

export const allStateNodes = (): AnyStateNode[] => {
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode) => {
    nodes.push(node);
    for (const child of Object.values(node.states)) visit(child as AnyStateNode);
  };
  visit(inertLaneMachine.root);
  return nodes;
};
