import { describe, expect, it } from 'vitest';
import { type AnyStateNode, createActor, fromCallback, type InspectionEvent } from 'xstate';
import { getShortestPaths, getStateNodes } from 'xstate/graph';
import { type PtyMachineEvent, ptyMachine } from '../../machines/pty.machine.js';

const GRACE_EVENT = 'xstate.after.terminateGrace.pty.live.running.termination.graceful';

/** The machine with an inert process actor: the graph and its replays exercise decisions only. */
const machine = ptyMachine.provide({ actors: { ptyProcess: fromCallback(() => undefined) } });

const events: PtyMachineEvent[] = [
  { type: 'SPAWN' },
  { type: 'SPAWNED', pid: 100 },
  { type: 'SPAWN_FAILED', message: 'no such file' },
  { type: 'TERMINATE' },
  { type: 'TERMINATE', graceMs: 10 },
  { type: 'CONSUMER_BEHIND' },
  { type: 'CONSUMER_CAUGHT_UP' },
  { type: 'IDLE' },
  { type: 'OUTPUT' },
  { type: 'RESIZE', cols: 100, rows: 30 },
  { type: 'SIGNAL', signal: 'SIGINT' },
  { type: 'EXITED', exitCode: 0, signal: null },
  { type: 'EXITED', exitCode: 2, signal: null },
  { type: 'EXITED', exitCode: null, signal: 'SIGKILL' },
  { type: 'TREE_GONE' },
  { type: 'LOST', reason: 'the terminal host died' },
  { type: GRACE_EVENT } as unknown as PtyMachineEvent,
  { type: 'xstate.error.actor.process', error: new Error('process actor fault') } as unknown as PtyMachineEvent,
];

const allNodes = (): AnyStateNode[] => [machine.root, ...getStateNodes(machine.root)];

/** Every transition the definition has, as `source|event|index`, eventless ones as `source|always|index`. */
function definedTransitions(): Set<string> {
  const keys = new Set<string>();
  for (const node of allNodes()) {
    for (const [eventType, definitions] of node.transitions) {
      for (let i = 0; i < definitions.length; i++) keys.add(`${node.id}|${eventType}|${i}`);
    }
    for (let i = 0; i < (node.always?.length ?? 0); i++) keys.add(`${node.id}|always|${i}`);
  }
  return keys;
}

type TransitionDefinition = { source: AnyStateNode; eventType: string };

function keyOf(definition: TransitionDefinition): string {
  const { source, eventType } = definition;
  const always = source.always ?? [];
  const index =
    eventType === ''
      ? always.indexOf(definition as never)
      : (source.transitions.get(eventType) ?? []).indexOf(definition as never);
  return `${source.id}|${eventType === '' ? 'always' : eventType}|${index}`;
}

/** Replays a path on a real actor, collecting the transitions and state nodes its microsteps took. */
function replay(steps: readonly { event: PtyMachineEvent }[], taken: Set<string>, visited: Set<string>): void {
  const actor = createActor(machine, {
    input: { ptyId: 'pty_graph0000000000', graceMs: 60_000 },
    inspect: (inspection: InspectionEvent) => {
      if (inspection.type === '@xstate.microstep') {
        for (const definition of (inspection as unknown as { _transitions: TransitionDefinition[] })._transitions)
          taken.add(keyOf(definition));
      }
      if (inspection.type === '@xstate.snapshot' && inspection.actorRef === actor) {
        for (const node of (inspection.snapshot as unknown as { _nodes: AnyStateNode[] })._nodes) visited.add(node.id);
      }
    },
  });
  actor.start();
  for (const { event } of steps) {
    // A final state takes no more events (sending them would only log a warning), and a child's
    // error exists only while the child does.
    const snapshot = actor.getSnapshot();
    const type = event.type as string;
    if (type === 'xstate.init' || snapshot.status !== 'active') continue;
    if (type.startsWith('xstate.error.actor') && !snapshot.matches('live')) continue;
    actor.send(event);
  }
  actor.stop();
}

describe('the PTY machine graph', () => {
  it('reaches every state node and takes every transition of the definition', () => {
    // Transition coverage: the shortest path to every reachable state, then every event from there.
    const paths = getShortestPaths(machine, { events, input: { ptyId: 'pty_graph0000000000', graceMs: 60_000 } });
    const taken = new Set<string>();
    const visited = new Set<string>();
    for (const path of paths) {
      for (const event of events) replay([...(path.steps as { event: PtyMachineEvent }[]), { event }], taken, visited);
    }
    expect([...visited].sort()).toEqual(
      allNodes()
        .map((n) => n.id)
        .sort(),
    );
    expect([...definedTransitions()].filter((key) => !taken.has(key))).toEqual([]);
    expect(taken.size).toBe(definedTransitions().size);
  });

  it('ends in errored or stopped on every path that finishes, and both are final', () => {
    const finals = getShortestPaths(machine, {
      events,
      input: { ptyId: 'pty_graph0000000000', graceMs: 60_000 },
      toState: (s) => s.status === 'done',
    });
    const endings = new Set(finals.map((p) => JSON.stringify(p.state.value)));
    expect([...endings].sort()).toEqual(['"errored"', '"stopped"']);
  });
});

describe('the PTY machine without its process actor', () => {
  it('ends errored with the reason instead of pretending to spawn, and does not fail its parent', () => {
    const actor = createActor(ptyMachine, { input: { ptyId: 'pty_graph0000000000', graceMs: 1 } });
    const errors: unknown[] = [];
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    actor.send({ type: 'SPAWN' });
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('errored');
    expect(snapshot.context).toMatchObject({ reason: 'crashed', failure: 'the ptyProcess actor must be provided' });
    expect(errors).toEqual([]);
  });
});
