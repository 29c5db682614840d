import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Actor, createActor, createMachine, SimulatedClock } from 'xstate';
import { type laneMachine, laneStateOf } from '../../machines/lane/lane.machine.js';
import type { LaneEvent } from '../../machines/lane/lane-protocol.js';
import { RESTART_BACKOFF_BASE_MS, RESTART_BACKOFF_MAX_MS, type RestartType } from '../../machines/restart-policy.js';
import { done, failed, INTENSITY, inertLaneLogic, outcome } from './lane-fakes.js';

/**
 * A fast-check model of the lane machine: random sequences of provisioning, PTY spawns and
 * endings, elapsed time (restart backoffs and intensity windows), commands, sharing, blocking,
 * cleanup (with failing steps and retries) and suspension, checked after every step against a
 * model of what the lane must be: its public state, its PTYs (status, generation), its command
 * queue, and the order in which it stops PTYs (reverse start order, one at a time). Effects are
 * inert fakes; the real ones are tested with real git and PTYs in test/supervision/lane.
 */
type Phase = 'new' | 'provisioning' | 'active' | 'stopping' | 'cleaning' | 'stalled' | 'closed' | 'suspended';
type CleanStep = 'salvage' | 'removeWorktree' | 'removeBranch' | 'removeRecord';
const CLEAN_STEPS: readonly CleanStep[] = ['salvage', 'removeWorktree', 'removeBranch', 'removeRecord'];

interface ModelPty {
  generation: number;
  restart: RestartType;
  recent: number;
  status: 'running' | 'restarting' | 'finished';
}

interface Timer {
  due: number;
  seq: number;
  kind: 'restart' | 'expire' | 'stopNext';
  ptyId: string;
  generation: number;
}

interface Model {
  phase: Phase;
  intent: 'cleanup' | 'suspend';
  cleanupRequested: boolean;
  agents: string[];
  shared: boolean;
  blocked: boolean;
  running: string[];
  queued: string[];
  ptys: Record<string, ModelPty>;
  order: string[];
  now: number;
  seq: number;
  timers: Timer[];
  /** The PTY child the lane was last told to terminate, awaiting its end. */
  stopping: string | undefined;
  step: CleanStep | 'stopTask' | undefined;
  nextPty: number;
  nextExec: number;
}

interface Real {
  actor: Actor<typeof laneMachine>;
  clock: SimulatedClock;
  terminated: string[];
}

const publicState = (m: Model): string => {
  if (m.phase === 'new' || m.phase === 'provisioning' || m.phase === 'closed') return m.phase;
  if (m.phase === 'cleaning' || m.phase === 'stalled' || (m.phase === 'stopping' && m.intent === 'cleanup'))
    return 'cleaning';
  if (m.blocked) return 'blocked';
  if (m.running.length > 0) return 'running';
  return m.shared ? 'shared' : 'ready';
};

const schedule = (m: Model, delay: number, kind: Timer['kind'], ptyId = '', generation = 0) =>
  m.timers.push({ due: m.now + delay, seq: m.seq++, kind, ptyId, generation });

/** Entering the stopping phase: execs stop, agents leave, pending restarts are dropped, then PTYs stop one by one. */
function beginStopping(m: Model, intent: 'cleanup' | 'suspend'): void {
  Object.assign(m, {
    phase: 'stopping',
    intent,
    running: [],
    queued: [],
    agents: [],
    shared: false,
    stopping: undefined,
  });
  for (const pty of Object.values(m.ptys)) if (pty.status === 'restarting') pty.status = 'finished';
  schedule(m, 0, 'stopNext');
  afterStoppingProgress(m);
}

/** No PTY left to stop: the task is stopped next. */
function afterStoppingProgress(m: Model): void {
  if (m.phase === 'stopping' && !Object.values(m.ptys).some((p) => p.status === 'running')) m.step = 'stopTask';
}

function ptyEnded(m: Model, ptyId: string, ending: 'normal' | 'abnormal' | 'requested'): void {
  const pty = m.ptys[ptyId] as ModelPty;
  if (m.phase === 'stopping') {
    pty.status = 'finished';
    m.stopping = undefined;
    schedule(m, 0, 'stopNext');
    afterStoppingProgress(m);
    return;
  }
  // The OTP rules, written here independently of machines/restart-policy.ts, as the oracle.
  const wanted =
    ending !== 'requested' && (pty.restart === 'permanent' || (pty.restart === 'transient' && ending === 'abnormal'));
  if (wanted && pty.recent < INTENSITY.maxRestarts) {
    const delay = Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_BASE_MS * 2 ** pty.recent);
    Object.assign(pty, { status: 'restarting', recent: pty.recent + 1 });
    schedule(m, delay, 'restart', ptyId, pty.generation);
    schedule(m, INTENSITY.periodMs, 'expire', ptyId);
    return;
  }
  pty.status = 'finished';
  if (wanted) m.blocked = true; // escalated past the intensity
}

function fireTimers(m: Model, real: Real): void {
  for (;;) {
    const due = m.timers.filter((t) => t.due <= m.now).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
    if (!due) return;
    m.timers.splice(m.timers.indexOf(due), 1);
    const pty = m.ptys[due.ptyId];
    if (due.kind === 'stopNext' && m.phase === 'stopping') {
      const next = [...m.order].reverse().find((id) => m.ptys[id]?.status === 'running');
      if (next) m.stopping = `${next}~${m.ptys[next]?.generation}`;
      expect(real.terminated.at(-1)).toBe(m.stopping ?? real.terminated.at(-1));
    }
    if (
      due.kind === 'restart' &&
      m.phase === 'active' &&
      pty?.status === 'restarting' &&
      pty.generation === due.generation
    ) {
      Object.assign(pty, { status: 'running', generation: pty.generation + 1 });
    }
    if (due.kind === 'expire' && m.phase === 'active' && pty) pty.recent = Math.max(0, pty.recent - 1);
  }
}

type Command = fc.Command<Model, Real>;
const command = (
  name: string,
  check: (m: Readonly<Model>) => boolean,
  apply: (m: Model, r: Real) => void,
): Command => ({
  check,
  run(m, r) {
    apply(m, r);
    const snapshot = r.actor.getSnapshot();
    expect(laneStateOf(snapshot)).toBe(publicState(m));
    expect(snapshot.context.running).toEqual(m.running);
    expect(snapshot.context.queued).toEqual(m.queued);
    expect(snapshot.context.agents).toEqual(m.agents);
    const ptys = Object.fromEntries(
      Object.entries(snapshot.context.ptys).map(([id, p]) => [id, [p.status, p.generation]]),
    );
    expect(ptys).toEqual(Object.fromEntries(Object.entries(m.ptys).map(([id, p]) => [id, [p.status, p.generation]])));
    expect(snapshot.status === 'done').toBe(m.phase === 'closed' || m.phase === 'suspended');
  },
  toString: () => name,
});

const send = (r: Real, event: LaneEvent) => r.actor.send(event);
const active = (m: Readonly<Model>) => m.phase === 'active';

const commands = [
  fc.boolean().map((ok) =>
    command(
      `provision(${ok ? 'ok' : 'fails'})`,
      (m) => m.phase === 'new',
      (m, r) => {
        send(r, { type: 'PROVISION' });
        send(r, ok ? done('provision') : failed('provision'));
        if (ok) m.phase = 'active';
        else beginStopping(m, 'cleanup');
      },
    ),
  ),
  fc.constantFrom<RestartType>('permanent', 'transient', 'temporary').map((restart) =>
    command(
      `spawnPty(${restart})`,
      (m) => active(m) && m.nextPty < 4,
      (m, r) => {
        const ptyId = `pty_${m.nextPty++}`;
        send(r, { type: 'SPAWN_PTY', ptyId, restart, graceMs: 5 });
        m.ptys[ptyId] = { generation: 1, restart, recent: 0, status: 'running' };
        m.order.push(ptyId);
      },
    ),
  ),
  fc
    .tuple(
      fc.nat(3),
      fc.constantFrom('normal', 'abnormal', 'requested', 'actorError') as fc.Arbitrary<
        'normal' | 'abnormal' | 'requested' | 'actorError'
      >,
    )
    .map(([pick, ending]) =>
      command(
        `ptyEnds(#${pick}, ${ending})`,
        (m) => Object.values(m.ptys).some((p) => p.status === 'running') && (active(m) || m.phase === 'stopping'),
        (m, r) => {
          const live = m.order.filter((id) => m.ptys[id]?.status === 'running');
          const ptyId =
            m.phase === 'stopping' ? (m.stopping?.split('~')[0] ?? live[pick % live.length]) : live[pick % live.length];
          const pty = m.ptys[ptyId as string] as ModelPty;
          const childId = `${ptyId}~${pty.generation}`;
          const reason = ending === 'normal' ? 'exited' : ending === 'requested' ? 'terminated' : 'crashed';
          send(
            r,
            ending === 'actorError'
              ? failed(childId)
              : done(childId, outcome(ptyId as string, reason, ending === 'requested')),
          );
          ptyEnded(m, ptyId as string, ending === 'actorError' ? 'abnormal' : ending);
        },
      ),
    ),
  // Values around the backoffs (100, 200 ms) and the intensity period (1 s).
  fc.constantFrom(0, 50, 100, 200, 400, 800, 1_000, 1_500).map((ms) =>
    command(
      `advance(${ms})`,
      () => true,
      (m, r) => {
        m.now += ms;
        r.clock.increment(ms);
        fireTimers(m, r);
      },
    ),
  ),
  fc.constant(
    command(
      'exec',
      (m) => active(m) && !m.blocked && m.nextExec < 6,
      (m, r) => {
        const execId = `exec_${m.nextExec++}`;
        send(r, { type: 'EXEC', execId });
        if (m.shared || m.running.length === 0) m.running.push(execId);
        else m.queued.push(execId);
      },
    ),
  ),
  fc.nat(5).map((pick) =>
    command(
      `execEnds(#${pick})`,
      (m) => active(m) && m.running.length > 0,
      (m, r) => {
        const execId = m.running[pick % m.running.length] as string;
        send(r, done(execId));
        m.running = m.running.filter((id) => id !== execId);
        const next = m.running.length === 0 || m.shared ? m.queued.shift() : undefined;
        if (next) m.running.push(next);
      },
    ),
  ),
  fc.constant(
    command('share', active, (m, r) => {
      send(r, { type: 'SHARE' });
      m.shared = true;
    }),
  ),
  fc.constantFrom('a', 'b').map((agentId) =>
    command(`attach(${agentId})`, active, (m, r) => {
      send(r, { type: 'ATTACH', agentId });
      if (!m.agents.includes(agentId) && (m.shared || m.agents.length === 0)) m.agents.push(agentId);
    }),
  ),
  fc.constantFrom('a', 'b').map((agentId) =>
    command(`detach(${agentId})`, active, (m, r) => {
      send(r, { type: 'DETACH', agentId });
      if (!m.agents.includes(agentId)) return;
      m.agents = m.agents.filter((a) => a !== agentId);
      m.shared = m.shared && m.agents.length > 0;
    }),
  ),
  fc.boolean().map((block) =>
    command(block ? 'block' : 'unblock', active, (m, r) => {
      send(r, block ? { type: 'BLOCK', reason: 'model' } : { type: 'UNBLOCK' });
      m.blocked = block;
    }),
  ),
  fc.constant(
    command('taskStalled', active, (m, r) => {
      send(r, { type: 'TASK_STALLED', reason: 'task_stalled' });
      m.blocked = true;
    }),
  ),
  fc.boolean().map((discard) =>
    command(
      `cleanup(${discard})`,
      (m) => m.phase !== 'closed' && m.phase !== 'suspended' && m.phase !== 'cleaning',
      (m, r) => {
        send(r, { type: 'CLEANUP', discard });
        if (m.phase === 'new') m.phase = 'closed';
        else if (m.phase === 'provisioning') m.cleanupRequested = true;
        else if (m.phase === 'active') beginStopping(m, 'cleanup');
        else if (m.phase === 'stopping') m.intent = 'cleanup';
        else if (m.phase === 'stalled') m.phase = 'cleaning';
      },
    ),
  ),
  fc.constant(
    // A shutdown suspends an active lane; one whose cleanup stalled is left for the next runtime as it is.
    command(
      'suspend',
      (m) => active(m) || m.phase === 'stalled',
      (m, r) => {
        send(r, { type: 'SUSPEND' });
        if (m.phase === 'stalled') Object.assign(m, { phase: 'suspended', intent: 'suspend' });
        else beginStopping(m, 'suspend');
      },
    ),
  ),
  fc.boolean().map((ok) =>
    command(
      `effectEnds(${ok ? 'ok' : 'fails'})`,
      (m) => m.step !== undefined && (m.phase === 'stopping' || m.phase === 'cleaning'),
      (m, r) => {
        const step = m.step as NonNullable<Model['step']>;
        const output =
          step === 'salvage' ? { salvagedRef: null } : step === 'removeBranch' ? { branchKept: false } : undefined;
        send(r, ok ? done(step, output) : failed(step));
        if (step === 'stopTask') {
          // A task that fails to stop does not stop the cleanup.
          if (m.intent === 'suspend') Object.assign(m, { phase: 'suspended', step: undefined });
          else Object.assign(m, { phase: 'cleaning', step: 'salvage' });
          return;
        }
        if (!ok) {
          m.phase = 'stalled';
          return;
        }
        const next = CLEAN_STEPS[CLEAN_STEPS.indexOf(step) + 1];
        if (next) m.step = next;
        else Object.assign(m, { phase: 'closed', step: undefined });
      },
    ),
  ),
];

/** Half the runs start from a provisioned lane, so that short sequences reach the interesting states. */
function setup(provisioned: boolean): { model: Model; real: Real } {
  const clock = new SimulatedClock();
  const terminated: string[] = [];
  const ptyChild = createMachine({
    on: { TERMINATE: { actions: ({ self }) => terminated.push(self.id) } },
  });
  const logic = inertLaneLogic(ptyChild);
  const actor = createActor(logic, {
    input: { laneId: 'lane_model0000000000', correlationId: 'cor_model', restartIntensity: INTENSITY },
    clock,
  });
  actor.start();
  if (provisioned) {
    actor.send({ type: 'PROVISION' });
    actor.send(done('provision'));
  }
  const model: Model = {
    phase: provisioned ? 'active' : 'new',
    intent: 'cleanup',
    cleanupRequested: false,
    agents: [],
    shared: false,
    blocked: false,
    running: [],
    queued: [],
    ptys: {},
    order: [],
    now: 0,
    seq: 0,
    timers: [],
    stopping: undefined,
    step: undefined,
    nextPty: 0,
    nextExec: 0,
  };
  return { model, real: { actor, clock, terminated } };
}

describe('the lane machine against its model (fast-check)', () => {
  it('stays where the model says through random sequences of lane operations', () => {
    // PTY endings and elapsed time drawn three times as often: restart and escalation need runs of them.
    const weighted = [...commands, commands[2], commands[2], commands[3], commands[3]] as typeof commands;
    fc.assert(
      fc.property(fc.boolean(), fc.commands(weighted, { maxCommands: 60, size: 'large' }), (provisioned, cmds) => {
        fc.modelRun(() => setup(provisioned), cmds);
      }),
      { numRuns: 500 },
    );
  });
});
