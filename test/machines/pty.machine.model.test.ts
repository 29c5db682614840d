import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Actor, createActor, fromCallback, SimulatedClock } from 'xstate';
import { type PtyProcessInput, ptyMachine, ptyStateOf, throttleReasonOf } from '../../machines/pty.machine.js';
import type { PtyProcessCommand, PtyProcessEvent, PtyState, ThrottleReason } from '../../machines/pty-protocol.js';

/**
 * A fast-check model of the PTY machine: random sequences of spawns, consumer stalls, idleness,
 * resizes, signals, terminations, crashes, elapsed time and vanishing process trees, checked
 * after every step against a model of the state the machine must be in and of the commands its
 * process actor must have received. The process actor is a fake (this tests decisions only; the
 * real one is covered by the PTY tests with real terminals).
 */
interface FakeProcess {
  spawnOk: boolean;
  paused: boolean;
  signalledTree: boolean;
  killedTree: boolean;
  forwarded: PtyProcessCommand[];
  report: ((event: PtyProcessEvent) => void) | undefined;
}

interface Model {
  state: PtyState;
  throttle: ThrottleReason | null;
  terminating: boolean;
  treeGone: boolean;
  escalated: boolean;
  exited: boolean;
  graceMs: number;
  msSinceTerminate: number;
  forwarded: number;
}

interface Real {
  actor: Actor<typeof ptyMachine>;
  clock: SimulatedClock;
  fake: FakeProcess;
}

const DEFAULT_GRACE = 1_000;
const running = (m: Model) => m.state === 'active' || m.state === 'throttled';
const mustDrain = (m: Model) => m.escalated || m.treeGone;

/** What `always` transitions do after any step: terminating ends idle throttling, a drained tree ends backpressure. */
function settleModel(m: Model): void {
  if (m.state === 'throttled' && m.throttle === 'idle' && m.terminating)
    Object.assign(m, { state: 'active', throttle: null });
  if (m.state === 'throttled' && m.throttle === 'backpressure' && mustDrain(m))
    Object.assign(m, { state: 'active', throttle: null });
  if (running(m) && m.terminating && m.treeGone && m.exited) Object.assign(m, { state: 'stopped', throttle: null });
}

type Command = fc.Command<Model, Real>;

const finished = (m: Readonly<Model>) => m.state === 'errored' || m.state === 'stopped';

/** A command applies to the machine and the model, then checks they agree; a finished PTY takes none. */
const command = (
  name: string,
  check: (m: Readonly<Model>) => boolean,
  apply: (m: Model, r: Real) => void,
): Command => ({
  check: (m) => !finished(m) && check(m),
  run(m, r) {
    apply(m, r);
    settleModel(m);
    const snapshot = r.actor.getSnapshot();
    expect(ptyStateOf(snapshot)).toBe(m.state);
    expect(throttleReasonOf(snapshot)).toBe(m.throttle);
    expect(r.fake.paused).toBe(m.state === 'throttled' && m.throttle === 'backpressure');
    expect(r.fake.killedTree).toBe(m.escalated);
    expect(snapshot.context.escalated).toBe(m.escalated);
    expect(snapshot.status === 'done').toBe(m.state === 'errored' || m.state === 'stopped');
    expect(r.fake.forwarded).toHaveLength(m.forwarded);
  },
  toString: () => name,
});

const spawn = (ok: boolean) =>
  command(
    `spawn(${ok ? 'ok' : 'fails'})`,
    (m) => m.state === 'idle',
    (m, r) => {
      r.fake.spawnOk = ok;
      r.actor.send({ type: 'SPAWN' });
      m.state = ok ? 'active' : 'errored';
    },
  );

const consumerBehind = command(
  'consumerBehind',
  () => true,
  (m, r) => {
    r.actor.send({ type: 'CONSUMER_BEHIND' });
    const eligible = (m.state === 'active' && !mustDrain(m)) || (m.state === 'throttled' && m.throttle === 'idle');
    if (eligible) Object.assign(m, { state: 'throttled', throttle: 'backpressure' });
  },
);

const consumerCaughtUp = command(
  'consumerCaughtUp',
  () => true,
  (m, r) => {
    r.actor.send({ type: 'CONSUMER_CAUGHT_UP' });
    if (m.state === 'throttled' && m.throttle === 'backpressure') Object.assign(m, { state: 'active', throttle: null });
  },
);

const idle = command(
  'idle',
  () => true,
  (m, r) => {
    r.actor.send({ type: 'IDLE' });
    if (m.state === 'active' && !m.terminating) Object.assign(m, { state: 'throttled', throttle: 'idle' });
  },
);

const output = command(
  'output',
  () => true,
  (m, r) => {
    r.actor.send({ type: 'OUTPUT' });
    if (m.state === 'throttled' && m.throttle === 'idle') Object.assign(m, { state: 'active', throttle: null });
  },
);

const resizeOrSignal = (kind: 'RESIZE' | 'SIGNAL') =>
  command(
    kind.toLowerCase(),
    () => true,
    (m, r) => {
      r.actor.send(kind === 'RESIZE' ? { type: 'RESIZE', cols: 90, rows: 30 } : { type: 'SIGNAL', signal: 'SIGINT' });
      if (running(m)) m.forwarded++;
    },
  );

const terminate = (graceMs: number | undefined) =>
  command(
    `terminate(${graceMs ?? 'default'})`,
    () => true,
    (m, r) => {
      r.actor.send(graceMs === undefined ? { type: 'TERMINATE' } : { type: 'TERMINATE', graceMs });
      if (m.state === 'idle') Object.assign(m, { state: 'stopped', terminating: true });
      else if (running(m) && !m.terminating) {
        Object.assign(m, { terminating: true, msSinceTerminate: 0, graceMs: graceMs ?? m.graceMs });
        expect(r.fake.signalledTree).toBe(true);
      }
    },
  );

const advance = (ms: number) =>
  command(
    `advance(${ms})`,
    () => true,
    (m, r) => {
      r.clock.increment(ms);
      if (!(running(m) && m.terminating && !m.treeGone && !m.escalated)) return;
      m.msSinceTerminate += ms;
      if (m.msSinceTerminate >= m.graceMs) m.escalated = true;
    },
  );

const treeGone = command(
  'treeGone',
  (m) => running(m) && m.terminating && !m.treeGone,
  (m, r) => {
    r.fake.report?.({ type: 'TREE_GONE' });
    m.treeGone = true;
  },
);

const exit = (exitCode: number | null, signal: string | null) =>
  command(
    `exit(${exitCode},${signal})`,
    (m) => running(m) && !m.exited,
    (m, r) => {
      r.fake.report?.({ type: 'EXITED', exitCode, signal });
      m.exited = true;
      if (m.terminating) return;
      Object.assign(m, { state: exitCode === 0 && signal === null ? 'stopped' : 'errored', throttle: null });
    },
  );

/** The backend lost the terminal (its host died): the PTY ends errored, whatever it was doing. */
const lost = command(
  'lost',
  (m) => running(m),
  (m, r) => {
    r.fake.report?.({ type: 'LOST', reason: 'the terminal host died' });
    Object.assign(m, { state: 'errored', throttle: null });
  },
);

const commands = [
  fc.boolean().map(spawn),
  fc.constant(lost),
  fc.constant(consumerBehind),
  fc.constant(consumerCaughtUp),
  fc.constant(idle),
  fc.constant(output),
  fc.constantFrom(resizeOrSignal('RESIZE'), resizeOrSignal('SIGNAL')),
  fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: undefined }).map(terminate),
  fc.integer({ min: 1, max: 2_000 }).map(advance),
  fc.constant(treeGone),
  fc.constantFrom(exit(0, null), exit(1, null), exit(null, 'SIGKILL')),
];

function setupReal(): Real {
  const fake: FakeProcess = {
    spawnOk: true,
    paused: false,
    signalledTree: false,
    killedTree: false,
    forwarded: [],
    report: undefined,
  };
  const fakeProcess = fromCallback<PtyProcessCommand, PtyProcessInput>(({ sendBack, receive }) => {
    fake.report = (event) => sendBack(event);
    receive((cmd) => {
      if (cmd.type === 'PAUSE') fake.paused = true;
      else if (cmd.type === 'RESUME') fake.paused = false;
      else if (cmd.type === 'SIGNAL_TREE') fake.signalledTree = true;
      else if (cmd.type === 'KILL_TREE') fake.killedTree = true;
      else fake.forwarded.push(cmd);
    });
    sendBack(fake.spawnOk ? { type: 'SPAWNED', pid: 4242 } : { type: 'SPAWN_FAILED', message: 'no such file' });
  });
  const clock = new SimulatedClock();
  const actor = createActor(ptyMachine.provide({ actors: { ptyProcess: fakeProcess } }), {
    input: { ptyId: 'pty_model0000000000', graceMs: DEFAULT_GRACE },
    clock,
  });
  actor.start();
  return { actor, clock, fake };
}

describe('the PTY machine against its model (fast-check)', () => {
  it('stays in the state the model expects through random sequences of operations', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40 }), (cmds) => {
        const initial: Model = {
          state: 'idle',
          throttle: null,
          terminating: false,
          treeGone: false,
          escalated: false,
          exited: false,
          graceMs: DEFAULT_GRACE,
          msSinceTerminate: 0,
          forwarded: 0,
        };
        fc.modelRun(() => ({ model: initial, real: setupReal() }), cmds);
      }),
      { numRuns: 500 },
    );
  });
});
