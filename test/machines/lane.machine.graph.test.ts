import { describe, expect, it } from 'vitest';
import type { AnyStateNode, InspectionEvent } from 'xstate';
import { laneStateOf } from '../../machines/lane/lane.machine.js';
import type { LaneEvent } from '../../machines/lane/lane-protocol.js';
import { allStateNodes, done, failed, inertLaneMachine, outcome, startLane } from './lane-fakes.js';

const events: LaneEvent[] = [
  { type: 'PROVISION' },
  done('provision'),
  failed('provision'),
  { type: 'CLEANUP', discard: false },
  { type: 'CLEANUP', discard: true },
  { type: 'SUSPEND' },
  { type: 'SPAWN_PTY', ptyId: 'pty_a', restart: 'permanent', graceMs: 10 },
  { type: 'STOP_PTY', ptyId: 'pty_a' },
  { type: 'STOP_PTY', ptyId: 'pty_a', graceMs: 5 },
  done('pty_a~1', outcome('pty_a', 'crashed')),
  done('pty_a~1', outcome('pty_a', 'terminated', true)),
  failed('pty_a~1'),
  done('pty_a~2', outcome('pty_a', 'crashed')),
  done('pty_a~3', outcome('pty_a', 'crashed')),
  { type: 'RESTART_PTY', ptyId: 'pty_a', generation: 1 },
  { type: 'RESTART_PTY', ptyId: 'pty_a', generation: 2 },
  { type: 'RESTART_EXPIRED', ptyId: 'pty_a' },
  { type: 'STOP_NEXT_PTY' },
  { type: 'EXEC', execId: 'exec_1' },
  { type: 'EXEC', execId: 'exec_2' },
  done('exec_1'),
  done('exec_2'),
  { type: 'SHARE' },
  { type: 'ATTACH', agentId: 'a' },
  { type: 'ATTACH', agentId: 'b' },
  { type: 'DETACH', agentId: 'a' },
  { type: 'BLOCK', reason: 'why' },
  { type: 'UNBLOCK' },
  { type: 'TASK_STALLED', reason: 'task_stalled' },
  done('stopTask'),
  failed('stopTask'),
  done('salvage', { salvagedRef: 'refs/lanevisor/salvage/x' }),
  failed('salvage'),
  done('removeWorktree'),
  failed('removeWorktree'),
  done('removeBranch', { branchKept: true }),
  failed('removeBranch'),
  done('removeRecord'),
  failed('removeRecord'),
];

function definedTransitions(): Set<string> {
  const keys = new Set<string>();
  for (const node of allStateNodes()) {
    for (const [eventType, definitions] of node.transitions) {
      for (let i = 0; i < definitions.length; i++) keys.add(`${node.id}|${eventType}|${i}`);
    }
    for (let i = 0; i < (node.always?.length ?? 0); i++) keys.add(`${node.id}|always|${i}`);
  }
  return keys;
}

type TransitionDefinition = { source: AnyStateNode; eventType: string };

function transitionKey(definition: TransitionDefinition): string {
  const { source, eventType } = definition;
  const list = eventType === '' ? (source.always ?? []) : (source.transitions.get(eventType) ?? []);
  return `${source.id}|${eventType === '' ? 'always' : eventType}|${list.indexOf(definition as never)}`;
}

/** The decision-relevant part of a snapshot: two snapshots with the same key behave alike. */
function keyOf(snapshot: ReturnType<ReturnType<typeof startLane>['getSnapshot']>): string {
  const { context } = snapshot;
  return JSON.stringify([
    snapshot.value,
    snapshot.status,
    context.agents.length,
    context.shared,
    context.blockReason !== null,
    context.running.length,
    context.queued.length,
    Object.values(context.ptys).map((p) => [p.status, p.generation, p.recentRestarts]),
    context.cleanupRequested,
    context.failedStep,
    context.intent,
  ]);
}

type Root = 'ready' | 'cleaning' | undefined;
/** A new lane, and lanes a later runtime resumes as ready or as half cleaned. */
const ROOTS: readonly Root[] = [undefined, 'ready', 'cleaning'];

interface Exploration {
  /** One way (start and event sequence) to each distinct reachable state. */
  readonly reachable: Map<string, { readonly root: Root; readonly steps: LaneEvent[] }>;
  /** Transitions taken (`source|event|index`) and state nodes entered along the way. */
  readonly taken: Set<string>;
  readonly visited: Set<string>;
}

/**
 * Breadth-first over event sequences, each replayed on a fresh actor (xstate/graph's traversal
 * shares one actor system, where the lane's PTY children would collide on their systemId). Every
 * event is tried from every reachable state, so every enabled transition is taken at least once.
 */
function explore(maxStates: number): Exploration {
  const reachable = new Map<string, { root: Root; steps: LaneEvent[] }>();
  const taken = new Set<string>();
  const visited = new Set<string>();
  const queue: { root: Root; steps: LaneEvent[] }[] = ROOTS.map((root) => ({ root, steps: [] }));
  while (queue.length > 0 && reachable.size < maxStates) {
    const { root, steps } = queue.shift() as { root: Root; steps: LaneEvent[] };
    const actor = startLane(
      undefined,
      (inspection: InspectionEvent) => {
        if (inspection.type === '@xstate.microstep') {
          for (const definition of (inspection as unknown as { _transitions: TransitionDefinition[] })._transitions) {
            taken.add(transitionKey(definition));
          }
        }
        if (
          inspection.type === '@xstate.snapshot' &&
          (inspection.actorRef as { logic?: unknown }).logic === inertLaneMachine
        ) {
          for (const node of (inspection.snapshot as unknown as { _nodes: AnyStateNode[] })._nodes)
            visited.add(node.id);
        }
      },
      root,
    );
    for (const event of steps) deliver(actor, event);
    const snapshot = actor.getSnapshot();
    actor.stop();
    const key = keyOf(snapshot);
    if (reachable.has(key)) continue;
    reachable.set(key, { root, steps });
    if (snapshot.status === 'active') for (const event of events) queue.push({ root, steps: [...steps, event] });
  }
  return { reachable, taken, visited };
}

/**
 * Sends an event as the system would: a finished lane takes none, and a child's ending only comes
 * while that child exists.
 */
function deliver(actor: ReturnType<typeof startLane>, event: LaneEvent): void {
  const snapshot = actor.getSnapshot();
  if (snapshot.status !== 'active') return;
  const childId = event.type.replace(/^xstate\.(done|error)\.actor\./, '');
  if (childId !== event.type && snapshot.children[childId] === undefined) return;
  // The lane's owner never reuses a PTY id or an exec id that is still in use.
  if (event.type === 'SPAWN_PTY' && snapshot.context.ptys[event.ptyId] !== undefined) return;
  if (event.type === 'EXEC' && [...snapshot.context.running, ...snapshot.context.queued].includes(event.execId)) return;
  actor.send(event);
}

/** Far above what the exploration finds: reaching it means the state space was not covered. */
const MAX_STATES = 2_000;

describe('the lane machine graph', () => {
  const { reachable, taken, visited } = explore(MAX_STATES);

  it('reaches every state node and takes every transition of the definition', () => {
    expect(reachable.size).toBeLessThan(MAX_STATES); // the exploration was complete
    // A final substate left at once by its parent's onDone is never observed in a snapshot.
    const observable = allStateNodes().filter((n) => !(n.type === 'final' && n.parent?.config.onDone !== undefined));
    expect([...visited].sort()).toEqual(observable.map((n) => n.id).sort());
    expect([...definedTransitions()].filter((key) => !taken.has(key))).toEqual([]);
  });

  it('every lane that finishes ends closed or suspended, and every public state is reachable', () => {
    const publicStates = new Set<string>();
    const endings = new Set<string>();
    for (const { root, steps } of reachable.values()) {
      const actor = startLane(undefined, undefined, root);
      for (const event of steps) deliver(actor, event);
      const snapshot = actor.getSnapshot();
      publicStates.add(laneStateOf(snapshot));
      if (snapshot.status === 'done') endings.add(JSON.stringify(snapshot.value));
      actor.stop();
    }
    expect([...publicStates].sort()).toEqual([
      'blocked',
      'cleaning',
      'closed',
      'new',
      'provisioning',
      'ready',
      'running',
      'shared',
    ]);
    expect([...endings].sort()).toEqual(['"closed"', '"suspended"']);
  });

  it('a failed provisioning is cleaned up with discard (nobody worked in it), whatever cleanup asked for', () => {
    for (const cleanupFirst of [false, true]) {
      const actor = startLane();
      actor.send({ type: 'PROVISION', correlationId: 'cor_a' });
      if (cleanupFirst) actor.send({ type: 'CLEANUP', discard: false, correlationId: 'cor_b' });
      actor.send(failed('provision'));
      expect(actor.getSnapshot().matches('stopping') || actor.getSnapshot().matches('cleaning')).toBe(true);
      expect(actor.getSnapshot().context.discard).toBe(true);
      actor.stop();
    }
  });

  it('a lane resumed to be cleaned knows from its input whether to discard, before any step runs', () => {
    for (const discard of [false, true]) {
      const actor = startLane(undefined, undefined, 'cleaning', discard);
      actor.send(done('stopTask'));
      expect(actor.getSnapshot().matches({ cleaning: 'salvaging' })).toBe(true);
      expect(actor.getSnapshot().context.discard).toBe(discard);
      actor.stop();
    }
  });
});
