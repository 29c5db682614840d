import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type Actor, createActor } from 'xstate';
import { z } from 'zod';
import { resolveRepository } from '../../actors/git/repository.js';
import { listWorktrees } from '../../actors/git/worktrees.js';
import { builtinTask } from '../../actors/task/builtin-task.js';
import { createParTask } from '../../actors/task/par-task.js';
import type { TaskBackend } from '../../actors/task/task-backend.js';
import { LanevisorError } from '../../bus/errors.js';
import { createCorrelationId, createLaneId, createRuntimeId, type LaneId } from '../../bus/ids.js';
import { asLocalBus, createBus } from '../../bus/local-bus.js';
import { MAX_TIMEOUT_MS } from '../../bus/schemas.js';
import type { Bus } from '../../bus/types.js';
import { parseOrThrow } from '../../bus/validation.js';
import { DEFAULT_RESTART_INTENSITY } from '../../machines/restart-policy.js';
import { runtimeMachine } from '../../machines/runtime.machine.js';
import { branchOf, validateLabel } from '../lane/labels.js';
import { type LaneActorRef, LaneController } from '../lane/lane-controller.js';
import { createLaneLogic } from '../lane/lane-logic.js';
import type { CreateLaneOptions, Lane } from '../lane/types.js';
import { PtyFactory, ptyLimitsSchema } from '../pty/pty-factory.js';
import { createBaseEnvironment } from '../pty/spawn-request.js';
import { ensurePrivateDirectory } from '../state/atomic-file.js';
import { type LaneRecord, LaneRecordStore } from '../state/lane-records.js';
import type { RuntimeContext } from './runtime-context.js';
import type { ReconciliationReport, Runtime, RuntimeOptions } from './types.js';

export const DEFAULT_MAX_LANES = 64;
export const DEFAULT_TASK_HEALTH = { intervalMs: 5_000, stallTimeoutMs: 30_000 };
export const DEFAULT_EXEC_GRACE_MS = 2_000;

const positiveInt = z.number().int().min(1);
const optionsSchema = z.strictObject({
  repo: z.string().min(1),
  stateDir: z.string().min(1).optional(),
  worktreeRoot: z.string().min(1).optional(),
  maxLanes: positiveInt.optional(),
  maxPtys: positiveInt.optional(),
  pty: ptyLimitsSchema.optional(),
  inspect: z.union([z.function(), z.object({ next: z.function() }).passthrough()]).optional(),
  task: z.union([z.enum(['builtin', 'par']), z.object({ name: z.string() }).passthrough()]).optional(),
  taskHealth: z
    .strictObject({
      intervalMs: positiveInt.max(MAX_TIMEOUT_MS).optional(),
      stallTimeoutMs: positiveInt.max(MAX_TIMEOUT_MS).optional(),
    })
    .optional(),
  restartIntensity: z
    .strictObject({ maxRestarts: z.number().int().min(0).optional(), periodMs: positiveInt.optional() })
    .optional(),
  execGraceMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  bus: z.unknown().optional(),
});
const createLaneSchema = z.strictObject({
  label: z.unknown().optional(),
  baseRef: z.string().min(1).max(1024).optional(),
  agent: z
    .string()
    .regex(/^[^\0]{1,128}$/)
    .optional(),
});

/** Starts a runtime on a repository; resolves once the lanes recorded by an earlier runtime are back or cleaned. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const parsed = parseOrThrow(optionsSchema, options, 'options', 'INVALID_ARGUMENT');
  const bus = asLocalBus((options.bus as Bus | undefined) ?? createBus());
  const repository = await resolveRepository(parsed.repo);
  const stateDir = resolve(parsed.stateDir ?? join(repository.commonDir, 'lanevisor'));
  await ensurePrivateDirectory(stateDir);
  const worktreeRoot =
    parsed.worktreeRoot ?? join(dirname(repository.topLevel), `${basename(repository.topLevel)}.lanes`);
  mkdirSync(worktreeRoot, { recursive: true });
  const runtimeId = createRuntimeId();
  const records = new LaneRecordStore(stateDir);
  await records.init();
  const ctx: RuntimeContext = {
    bus,
    runtimeId,
    repository,
    stateDir,
    worktreeRoot: realpathSync(worktreeRoot),
    records,
    ptys: new PtyFactory({
      bus,
      runtimeId,
      ...(parsed.pty ? { pty: parsed.pty } : {}),
      ...(parsed.maxPtys ? { maxPtys: parsed.maxPtys } : {}),
    }),
    task: taskBackendOf(options.task),
    taskHealth: {
      intervalMs: parsed.taskHealth?.intervalMs ?? DEFAULT_TASK_HEALTH.intervalMs,
      stallTimeoutMs: parsed.taskHealth?.stallTimeoutMs ?? DEFAULT_TASK_HEALTH.stallTimeoutMs,
    },
    restartIntensity: {
      maxRestarts: parsed.restartIntensity?.maxRestarts ?? DEFAULT_RESTART_INTENSITY.maxRestarts,
      periodMs: parsed.restartIntensity?.periodMs ?? DEFAULT_RESTART_INTENSITY.periodMs,
    },
    execGraceMs: parsed.execGraceMs ?? DEFAULT_EXEC_GRACE_MS,
    baseEnv: createBaseEnvironment(),
  };
  const runtime = new LanevisorRuntime(ctx, parsed.maxLanes ?? DEFAULT_MAX_LANES, options.inspect);
  await runtime.resumeRecordedLanes();
  return runtime;
}

function taskBackendOf(task: RuntimeOptions['task']): TaskBackend {
  if (task === undefined || task === 'builtin') return builtinTask;
  if (task === 'par') return createParTask();
  return task;
}

class LanevisorRuntime implements Runtime {
  readonly id: string;
  readonly bus: Bus;
  reconciliation: ReconciliationReport = {
    durationMs: 0,
    lanes: { resumed: 0, cleaned: 0, salvaged: 0 },
    branches: { removed: 0, kept: 0 },
    salvagedRefs: [],
    unreadableRecords: [],
  };
  readonly #lanes = new Map<string, LaneController>();
  readonly #root: Actor<typeof runtimeMachine>;
  #stopped = false;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly maxLanes: number,
    inspect: RuntimeOptions['inspect'],
  ) {
    this.id = ctx.runtimeId;
    this.bus = ctx.bus;
    const logic = runtimeMachine.provide({
      actors: { lane: createLaneLogic(ctx, (laneId) => this.#lanes.get(laneId)) },
    });
    this.#root = createActor(logic, { systemId: 'runtime', ...(inspect ? { inspect: inspect as never } : {}) });
    this.#root.on('lane_crashed', ({ laneId, error }) => this.#lanes.get(laneId)?.crashed(error));
    this.#root.start();
  }

  get worktreeRoot(): string {
    return this.ctx.worktreeRoot;
  }

  get stateDir(): string {
    return this.ctx.stateDir;
  }

  lanes(): Lane[] {
    return [...this.#lanes.values()];
  }

  getLane(id: LaneId | string): Lane | undefined {
    return this.#lanes.get(id);
  }

  async createLane(options: CreateLaneOptions = {}): Promise<Lane> {
    if (this.#stopped) throw new LanevisorError('INVALID_STATE', 'this runtime was shut down; create a new one');
    const parsed = parseOrThrow(createLaneSchema, options, 'options', 'INVALID_ARGUMENT');
    const label = validateLabel(parsed.label);
    if (this.#lanes.size >= this.maxLanes) {
      throw new LanevisorError(
        'CAPACITY',
        `${this.#lanes.size} lanes are open, the most this runtime allows (maxLanes ${this.maxLanes})`,
      );
    }
    if (label !== null && this.lanes().some((lane) => lane.label === label)) {
      throw new LanevisorError('ALREADY_EXISTS', `a lane labelled ${label} is already open`, { details: { label } });
    }
    const laneId = createLaneId();
    const correlationId = this.bus.currentCorrelationId() ?? createCorrelationId();
    const baseRef = parsed.baseRef ?? 'HEAD';
    const lane = this.#start(
      { laneId, label, branch: branchOf(label, laneId), baseRef, worktreePath: join(this.ctx.worktreeRoot, laneId) },
      correlationId,
      parsed.agent === undefined ? [] : [parsed.agent],
    );
    this.ctx.bus.publishLifecycle(
      'lane.created',
      { laneId, label, branch: lane.branch, baseRef, worktreePath: lane.worktreePath, agents: [...lane.agents] },
      { correlationId },
    );
    lane.send({ type: 'PROVISION', correlationId });
    await lane.ready;
    return lane;
  }

  async shutdown(options: { readonly cleanupLanes?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const lanes = [...this.#lanes.values()];
    await Promise.allSettled(
      lanes.map(async (lane) => {
        if (options.cleanupLanes) {
          await lane.cleanup();
          return;
        }
        // A lane still provisioning finishes first; then its PTYs and task stop and it is kept.
        await lane.ready.catch(() => undefined);
        lane.send({ type: 'SUSPEND' });
        await lane.done;
      }),
    );
    this.#root.stop();
  }

  /**
   * Lanes an earlier runtime recorded: healthy ready ones come back `ready`; ones whose cleanup
   * or provisioning was interrupted, or whose worktree is gone, are cleaned (salvage first).
   */
  async resumeRecordedLanes(): Promise<void> {
    const started = performance.now();
    const { records, problems } = await this.ctx.records.list();
    const registered = new Set((await listWorktrees(this.ctx.repository)).map((w) => w.path));
    const report = { resumed: 0, cleaned: 0, salvaged: 0, removed: 0, kept: 0, refs: [] as string[] };
    await Promise.all(
      records.map(async (record) => {
        const healthy =
          record.phase === 'ready' && registered.has(record.worktreePath) && existsSync(record.worktreePath);
        const lane = this.#start(
          identityOf(record),
          createCorrelationId(),
          record.agents,
          healthy ? 'ready' : 'cleaning',
          record,
        );
        if (healthy) {
          report.resumed++;
          this.ctx.bus.publishLifecycle('lane.resumed', {
            laneId: lane.id,
            worktreePath: lane.worktreePath,
            branch: lane.branch,
          });
          return;
        }
        const outcome = await lane.cleanup({ discard: record.phase === 'provisioning' || record.discard });
        report.cleaned++;
        if (outcome.salvagedRef) report.refs.push(outcome.salvagedRef);
        if (outcome.branchKept) report.kept++;
        else report.removed++;
      }),
    );
    this.reconciliation = {
      durationMs: Math.round(performance.now() - started),
      lanes: { resumed: report.resumed, cleaned: report.cleaned, salvaged: report.refs.length },
      branches: { removed: report.removed, kept: report.kept },
      salvagedRefs: report.refs,
      unreadableRecords: problems.map((p) => p.file),
    };
    this.ctx.bus.publishLifecycle('runtime.reconciled', {
      runtimeId: this.id,
      ...this.reconciliation,
      salvagedRefs: [...report.refs],
      unreadableRecords: [...this.reconciliation.unreadableRecords],
    });
  }

  #start(
    identity: LaneController['identity'],
    correlationId: string,
    agents: readonly string[],
    resumeAs?: 'ready' | 'cleaning',
    record?: LaneRecord,
  ): LaneController {
    const lane = new LaneController(this.ctx, identity, agents, record, (done) => this.#lanes.delete(done.id));
    this.#lanes.set(identity.laneId, lane);
    this.#root.send({
      type: 'START_LANE',
      laneId: identity.laneId,
      input: {
        laneId: identity.laneId,
        correlationId,
        agents,
        restartIntensity: this.ctx.restartIntensity,
        ...(resumeAs ? { resumeAs } : {}),
      },
    });
    lane.bind(this.#root.getSnapshot().children[identity.laneId] as LaneActorRef);
    return lane;
  }
}

function identityOf(record: LaneRecord): LaneController['identity'] {
  return {
    laneId: record.laneId as LaneId,
    label: record.label,
    branch: record.branch,
    baseRef: record.baseRef,
    worktreePath: record.worktreePath,
  };
}
