import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { isLanevisorError } from '../../bus/errors.js';
import { LANE_STATES, PTY_STATES } from '../../bus/lifecycle.js';
import { createBus } from '../../bus/local-bus.js';
import type { Lane } from '../../supervision/lane/types.js';
import type { Pty } from '../../supervision/pty/types.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import type { Runtime } from '../../supervision/runtime/types.js';
import { createTempRepo, gitIn } from '../support/git-repo.js';
import { livePidsTagged } from '../support/proc-scan.js';
import { waitUntil } from '../support/wait.js';

/**
 * The whole system through its public API, with real git and real PTYs: random operations on
 * three lane slots, started in an order fc.scheduler picks and running concurrently. After each
 * operation, every lane and PTY must be in a public state; at the end, per-topic sequences have no
 * gap, state changes chain, no lane removes its worktree before its PTYs stopped, and a final
 * cleanup leaves nothing on disk, in git or in /proc. A few runs in `npm test`; `npm run
 * test:soak` runs many (LANEVISOR_SOAK_RUNS).
 */
const RUNS = Math.max(4, Math.round(Number(process.env.LANEVISOR_SOAK_RUNS ?? 0) / 4));
const SLOTS = ['a', 'b', 'c'] as const;

type Op =
  | { readonly kind: 'create' | 'exec' | 'share' | 'block' | 'unblock' | 'cleanup' | 'crash'; readonly slot: number }
  | { readonly kind: 'spawn'; readonly slot: number; readonly restart: 'temporary' | 'transient' }
  | { readonly kind: 'write' | 'resize'; readonly slot: number; readonly n: number }
  | { readonly kind: 'attach' | 'detach'; readonly slot: number; readonly agent: 'x' | 'y' }
  | { readonly kind: 'restart'; readonly mode: 'graceful' | 'crash' }
  | { readonly kind: 'killHost' };

/** What one lane's agent does, in order: the slot is filled in per lane. */
const laneOpArb = (slot: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('spawn' as const),
        slot: fc.constant(slot),
        restart: fc.constantFrom('temporary' as const, 'transient' as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constantFrom('write' as const, 'resize' as const),
        slot: fc.constant(slot),
        n: fc.integer({ min: 1, max: 200 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constantFrom(
          'exec' as const,
          'share' as const,
          'block' as const,
          'unblock' as const,
          'crash' as const,
        ),
        slot: fc.constant(slot),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constantFrom('attach' as const, 'detach' as const),
        slot: fc.constant(slot),
        agent: fc.constantFrom('x' as const, 'y' as const),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constantFrom('cleanup' as const, 'create' as const), slot: fc.constant(slot) }),
    },
  ) as fc.Arbitrary<Op>;

/**
 * What happens to the runtime and its terminal host: a shutdown and a new runtime, the
 * orchestrator dying (its PTYs left in the host, as SIGKILL leaves them, for the next runtime to
 * take over), or the host killed under the runtime.
 */
const runtimeOpArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('restart' as const), mode: fc.constantFrom('graceful' as const, 'crash' as const) }),
  fc.constant({ kind: 'killHost' as const }),
);

/** One sequence per lane slot (it starts by creating its lane), and one of what befalls the runtime. */
const scriptArb = fc.tuple(
  ...SLOTS.map((_, slot) =>
    fc.array(laneOpArb(slot), { maxLength: 6 }).map((ops): Op[] => [{ kind: 'create', slot }, ...ops]),
  ),
  fc.array(runtimeOpArb, { maxLength: 2 }),
);

/** Put in the event log where one runtime ended: a PTY taken over by the next one starts a new handle. */
const RUNTIME_BOUNDARY = 'model.runtime_boundary';

/** Errors an operation may meet because of what else happened (a lane not there, closed, busy). */
const EXPECTED = ['NOT_FOUND', 'INVALID_STATE', 'ALREADY_EXISTS', 'CAPACITY'] as const;

class World {
  rt: Runtime;
  readonly runtimes: Runtime[] = [];
  #restarting: Promise<void> | undefined;

  constructor(
    rt: Runtime,
    readonly repo: string,
    readonly bus: ReturnType<typeof createBus>,
    readonly events: EventEnvelope[] = [],
  ) {
    this.rt = rt;
    this.runtimes.push(rt);
  }

  lane(index: number): Lane {
    const label = SLOTS[index] as string;
    const lane = this.rt.lanes().find((l) => l.label === label);
    if (!lane) throw Object.assign(new Error(`no lane ${label}`), { code: 'NOT_FOUND' });
    return lane;
  }

  pty(index: number): Pty {
    const pty = this.lane(index).ptys().at(-1);
    if (!pty) throw Object.assign(new Error('no pty'), { code: 'NOT_FOUND' });
    return pty;
  }

  async restart(mode: 'graceful' | 'crash'): Promise<void> {
    this.#restarting ??= (async () => {
      await this.rt.shutdown({ keepPtys: mode === 'crash' });
      this.events.push({ topic: RUNTIME_BOUNDARY } as EventEnvelope);
      this.rt = await createRuntime({ repo: this.repo, bus: this.bus, pty: { terminateGraceMs: 300 } });
      this.runtimes.push(this.rt);
    })().finally(() => {
      this.#restarting = undefined;
    });
    await this.#restarting;
  }
}

async function apply(world: World, op: Op): Promise<void> {
  const index = 'slot' in op ? op.slot : 0;
  switch (op.kind) {
    case 'create':
      await world.rt.createLane({ label: SLOTS[index] as string });
      return;
    case 'spawn':
      await world.lane(index).spawnPty({
        command: 'bash',
        args: ['--norc', '--noprofile', '-i'],
        env: { PS1: '$ ' },
        restart: op.restart,
      });
      return;
    case 'write':
      world.pty(index).write(`echo ${'w'.repeat(op.n)}\r`);
      return;
    case 'resize':
      world.pty(index).resize(op.n, 24 + (op.n % 40));
      return;
    case 'crash':
      world.pty(index).signal('SIGKILL');
      return;
    case 'exec': {
      const result = await world.lane(index).exec(['git', 'rev-parse', '--abbrev-ref', 'HEAD']);
      expect(result.stdout.trim()).toBe(`lane/${SLOTS[index]}`);
      return;
    }
    case 'share':
      await world.lane(index).share();
      return;
    case 'attach':
      await world.lane(index).attach(op.agent);
      return;
    case 'detach':
      await world.lane(index).detach(op.agent);
      return;
    case 'block':
      await world.lane(index).block('model');
      return;
    case 'unblock':
      await world.lane(index).unblock();
      return;
    case 'cleanup':
      await world.lane(index).cleanup({ discard: true });
      return;
    case 'restart':
      await world.restart(op.mode);
      return;
    case 'killHost': {
      // Without a terminal host (the inline backend) there is nothing to kill.
      const host = world.rt.ptyHost;
      if (host !== null) process.kill(host.pid, 'SIGKILL');
      return;
    }
  }
}

function isExpected(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return EXPECTED.includes(code as (typeof EXPECTED)[number]) && (isLanevisorError(error) || error instanceof Error);
}

/** After any operation: every lane and PTY is in one of the public states. */
function checkStates(world: World): void {
  for (const lane of world.rt.lanes()) {
    expect(LANE_STATES).toContain(lane.state);
    for (const pty of lane.ptys()) expect(PTY_STATES).toContain(pty.state);
  }
}

/** Over the whole run: sequences, chained state changes, and PTYs stopped before the worktree goes. */
function checkEvents(events: readonly EventEnvelope[]): void {
  const sequences = new Map<string, number>();
  const laneStates = new Map<string, string>();
  const ptyStates = new Map<string, string>();
  const running = new Map<string, Set<string>>();
  // PTYs alive when a runtime ended: the next one's handle of each starts from idle.
  const adoptable = new Set<string>();
  for (const event of events) {
    if (event.topic === RUNTIME_BOUNDARY) {
      adoptable.clear();
      for (const ptyId of ptyStates.keys()) adoptable.add(ptyId);
      continue;
    }
    const previous = sequences.get(event.topic) ?? 0;
    expect(event.sequence, `sequence of ${event.topic}`).toBe(previous + 1);
    sequences.set(event.topic, event.sequence);
    const payload = event.payload as { laneId: string; ptyId: string; from: string; to: string };
    if (event.topic === 'lane.state_changed') {
      const before = laneStates.get(payload.laneId);
      // A lane a new runtime resumes starts a new actor, from `new`; a closed lane never comes back.
      if (before !== undefined && payload.from !== 'new') expect(payload.from, `lane ${payload.laneId}`).toBe(before);
      expect(before, `lane ${payload.laneId} after it closed`).not.toBe('closed');
      laneStates.set(payload.laneId, payload.to);
    }
    if (event.topic === 'pty.state_changed') {
      const before = ptyStates.get(payload.ptyId);
      const newHandle = adoptable.delete(payload.ptyId) && payload.from === 'idle';
      if (before !== undefined && !newHandle) expect(payload.from, `pty ${payload.ptyId}`).toBe(before);
      ptyStates.set(payload.ptyId, payload.to);
    }
    if (event.topic === 'pty.spawned') {
      const set = running.get(payload.laneId) ?? new Set();
      set.add(payload.ptyId);
      running.set(payload.laneId, set);
    }
    if (event.topic === 'pty.stopped') running.get(payload.laneId)?.delete(payload.ptyId);
    if (event.topic === 'lane.worktree_removed') {
      expect([...(running.get(payload.laneId) ?? [])], `PTYs of ${payload.laneId} when its worktree went`).toEqual([]);
    }
  }
}

describe('the whole system, model', () => {
  it(
    'keeps its invariants under random interleavings of the public API',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), scriptArb, async (scheduler, script) => {
          const repo = createTempRepo(20);
          const bus = createBus({ queueLimit: 1_000_000 });
          const events: EventEnvelope[] = [];
          // Subscribed before the first runtime starts, so every topic is seen from sequence 1.
          bus.subscribe('**', (event) => void (event.topic !== 'pty.output' && events.push(event)), {
            queueLimit: 1_000_000,
          });
          const world = new World(
            await createRuntime({ repo: repo.path, bus, pty: { terminateGraceMs: 300 } }),
            repo.path,
            bus,
            events,
          );
          try {
            const unexpected: unknown[] = [];
            // Each sequence runs its steps in order; the scheduler picks which sequence steps next.
            for (const [n, sequence] of script.entries()) {
              scheduler.scheduleSequence(
                sequence.map((op, i) => ({
                  label: `${n}.${i} ${JSON.stringify(op)}`,
                  builder: () =>
                    apply(world, op)
                      .catch((error: unknown) => {
                        if (!isExpected(error)) unexpected.push(error);
                      })
                      .finally(() => checkStates(world)),
                })),
              );
            }
            await scheduler.waitAll();
            expect(unexpected).toEqual([]);
            await world.rt.shutdown({ cleanupLanes: true });
            // Lanes whose cleanup raced a restart are back in the next runtime: one more start cleans them.
            const last = await createRuntime({ repo: repo.path, bus });
            world.runtimes.push(last);
            await last.shutdown({ cleanupLanes: true });
            await new Promise((resolve) => setTimeout(resolve, 20));
            checkEvents(events);
            expect(gitIn(repo.path, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
            expect(gitIn(repo.path, 'for-each-ref', 'refs/heads/lane/')).toBe('');
            for (const runtime of world.runtimes)
              expect(livePidsTagged('LANEVISOR_RUNTIME_ID', runtime.id)).toEqual([]);
          } finally {
            await world.rt.shutdown({ cleanupLanes: true }).catch(() => undefined);
            repo.dispose();
          }
        }),
        { numRuns: RUNS },
      );
    },
    120_000 + RUNS * 30_000,
  );

  it("reaches the system with every one of the model's operations, one after the other", async () => {
    const repo = createTempRepo(20);
    const bus = createBus({ queueLimit: 1_000_000 });
    const topics: string[] = [];
    bus.subscribe('**', (event) => void topics.push(event.topic), { queueLimit: 1_000_000 });
    const world = new World(
      await createRuntime({ repo: repo.path, bus, pty: { terminateGraceMs: 300 } }),
      repo.path,
      bus,
    );
    try {
      const hosted = world.rt.ptyHost !== null;
      const script: Op[] = [
        { kind: 'create', slot: 0 },
        { kind: 'spawn', slot: 0, restart: 'transient' },
        { kind: 'write', slot: 0, n: 3 },
        { kind: 'resize', slot: 0, n: 100 },
        { kind: 'exec', slot: 0 },
        { kind: 'share', slot: 0 },
        { kind: 'attach', slot: 0, agent: 'x' },
        { kind: 'attach', slot: 0, agent: 'y' },
        { kind: 'detach', slot: 0, agent: 'x' },
        { kind: 'block', slot: 0 },
        { kind: 'unblock', slot: 0 },
        { kind: 'crash', slot: 0 },
        { kind: 'restart', mode: 'graceful' },
        { kind: 'spawn', slot: 0, restart: 'temporary' },
        { kind: 'restart', mode: 'crash' },
        // Only a terminal host keeps a PTY through its runtime's end.
        ...(hosted ? [{ kind: 'write', slot: 0, n: 5 } as const] : []),
        { kind: 'killHost' },
        { kind: 'exec', slot: 0 },
        { kind: 'cleanup', slot: 0 },
      ];
      for (const op of script) {
        await apply(world, op);
        checkStates(world);
        // The crashed PTY is restarted by its supervisor before the runtime goes down.
        if (op.kind === 'crash') await waitUntil(() => topics.includes('supervisor.restarted'), 'the restart');
        // The PTY the crashed runtime left is the one the next runtime writes to.
        if (op.kind === 'restart' && op.mode === 'crash' && hosted) {
          expect(world.rt.reconciliation.ptys.adopted).toBeGreaterThan(0);
        }
        if (op.kind === 'killHost' && hosted)
          await waitUntil(() => topics.includes('runtime.pty_host_lost'), 'the loss');
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const topic of [
        'lane.shared',
        'lane.agent_detached',
        'supervisor.restarted',
        'lane.resumed',
        'lane.closed',
      ]) {
        expect(topics).toContain(topic);
      }
      expect(world.rt.lanes()).toEqual([]);
    } finally {
      await world.rt.shutdown({ cleanupLanes: true });
      repo.dispose();
    }
  });
});
