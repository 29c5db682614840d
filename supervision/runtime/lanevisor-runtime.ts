import { join } from 'node:path';
import { type Actor, createActor, type InspectionEvent } from 'xstate';
import { z } from 'zod';
import type { HeldLock } from '../../actors/process/process-lock.js';
import { LanevisorError } from '../../bus/errors.js';
import { createCorrelationId, createLaneId, type LaneId, type PtyId } from '../../bus/ids.js';
import type { Bus } from '../../bus/types.js';
import { parseOrThrow } from '../../bus/validation.js';
import { runtimeMachine } from '../../machines/runtime.machine.js';
import { allocatePort, planLane } from '../config/lane-plan.js';
import { findPty, registerControlCommands } from '../control/commands.js';
import { ControlSocket } from '../control/control-socket.js';
import { type ServeHandle, type ServeOptions, serveRuntime } from '../control/serve-hook.js';
import { branchOf, validateLabel } from '../lane/labels.js';
import { type LaneActorRef, LaneController } from '../lane/lane-controller.js';
import { createLaneLogic } from '../lane/lane-logic.js';
import { identityOfRecord } from '../lane/lane-resources.js';
import { type LaneSettings, laneSettingsOf, recordedLaneSettings } from '../lane/lane-settings.js';
import { laneConflicts } from '../lane/lane-workflow.js';
import type { CreateLaneOptions, Lane, LaneState } from '../lane/types.js';
import type { Pty } from '../pty/types.js';
import type { StartupFacts } from '../recovery/startup-facts.js';
import { EMPTY_RECONCILIATION, reconcileStartup } from '../recovery/startup-reconciliation.js';
import type { LaneRecord } from '../state/lane-records.js';
import type { RuntimeContext } from './runtime-context.js';
import type { TraceWriter } from './trace.js';
import type { ReconciliationReport, Runtime } from './types.js';

const createLaneSchema = z.strictObject({
  label: z.unknown().optional(),
  baseRef: z.string().min(1).max(1024).optional(),
  agent: z
    .string()
    .regex(/^[^\0]{1,128}$/)
    .optional(),
  template: z.string().min(1).max(128).optional(),
  setup: z.literal(false).optional(),
});

/** Lanes whose branch holds work to compare (not being made, not going away). */
const OPEN_FOR_WORK: readonly LaneState[] = ['ready', 'running', 'blocked', 'shared'];

/** A live runtime: the root actor over its lanes, what `createRuntime` resolves with. */
export class LanevisorRuntime implements Runtime {
  readonly id: string;
  readonly bus: Bus;
  readonly startedAt = Date.now();
  reconciliation: ReconciliationReport = EMPTY_RECONCILIATION;
  readonly #lanes = new Map<string, LaneController>();
  readonly #root: Actor<typeof runtimeMachine>;
  #stopped = false;
  readonly #unregisterCommands: () => void;
  /** What `serve()` started: closed first at shutdown, so no client is left talking to a stopped runtime. */
  readonly #servers = new Set<ServeHandle>();
  #control: ControlSocket | undefined;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly lock: HeldLock,
    private readonly maxLanes: number,
    inspect: ((event: InspectionEvent) => void) | undefined,
    private readonly trace: TraceWriter | undefined,
  ) {
    this.id = ctx.runtimeId;
    this.bus = ctx.bus;
    const logic = runtimeMachine.provide({
      actors: { lane: createLaneLogic(ctx, (laneId) => this.#lanes.get(laneId)) },
    });
    this.#root = createActor(logic, { systemId: 'runtime', ...(inspect ? { inspect } : {}) });
    this.#root.on('lane_crashed', ({ laneId, error }) => this.#lanes.get(laneId)?.crashed(error));
    this.#root.start();
    this.#unregisterCommands = registerControlCommands(this);
  }

  get repo(): string {
    return this.ctx.repository.topLevel;
  }

  get worktreeRoot(): string {
    return this.ctx.worktreeRoot;
  }

  get stateDir(): string {
    return this.ctx.stateDir;
  }

  get ptyHost(): { pid: number } | null {
    const pid = this.ctx.ptyHost?.hostPid;
    return pid === undefined || pid === null ? null : { pid };
  }

  get limits(): { maxLanes: number; maxPtys: number } {
    return { maxLanes: this.maxLanes, maxPtys: this.ctx.ptys.maxPtys };
  }

  lanes(): Lane[] {
    return [...this.#lanes.values()];
  }

  getLane(id: LaneId | string): Lane | undefined {
    return this.#lanes.get(id);
  }

  getPty(id: PtyId | string): Pty | undefined {
    return findPty(this, id);
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
    const plan = planLane(this.ctx.config, parsed);
    const laneId = createLaneId();
    const correlationId = this.bus.currentCorrelationId() ?? createCorrelationId();
    const { baseRef } = plan;
    const port = allocatePort(this.ctx.config.ports, new Set(this.lanes().map((open) => open.port ?? 0)));
    const lane = this.#start(
      {
        laneId,
        label,
        branch: branchOf(label, laneId, this.ctx.config.branchPrefix),
        baseRef,
        worktreePath: join(this.ctx.worktreeRoot, laneId),
        worktreeRoot: this.ctx.worktreeRoot,
      },
      laneSettingsOf(this.ctx, plan, { laneId, label, port }),
      correlationId,
      parsed.agent === undefined ? [] : [parsed.agent],
    );
    this.ctx.bus.publishLifecycle(
      'lane.created',
      {
        laneId,
        label,
        branch: lane.branch,
        baseRef,
        worktreePath: lane.worktreePath,
        agents: [...lane.agents],
        port: lane.port,
      },
      { correlationId },
    );
    lane.send({ type: 'PROVISION', correlationId });
    await lane.ready;
    return lane;
  }

  conflicts() {
    // Oldest first, as they were made (a runtime that resumed them may hold them in another order).
    const open = [...this.#lanes.values()]
      .filter((lane) => OPEN_FOR_WORK.includes(lane.state))
      .sort((x, y) => x.resources.record.createdAt - y.resources.record.createdAt);
    return laneConflicts(
      this.ctx.repository,
      open.map((lane) => lane.workflow),
    );
  }

  async serve(options: ServeOptions = {}): Promise<ServeHandle> {
    if (this.#stopped) throw new LanevisorError('INVALID_STATE', 'this runtime was shut down; create a new one');
    const handle = await serveRuntime(this, options);
    const close = handle.close.bind(handle);
    const served: ServeHandle = {
      url: handle.url,
      token: handle.token,
      close: () => {
        this.#servers.delete(served);
        return close();
      },
    };
    this.#servers.add(served);
    return served;
  }

  async shutdown(options: { readonly cleanupLanes?: boolean; readonly keepPtys?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.ctx.bus.publishLifecycle('runtime.stopping', {
      runtimeId: this.id,
      cleanupLanes: options.cleanupLanes === true,
      keepPtys: options.keepPtys === true,
    });
    await Promise.allSettled([...this.#servers].map((server) => server.close()));
    await this.#control?.close();
    this.#unregisterCommands();
    // Leaving the PTYs in the host, as if this runtime had died (without a host there is nothing to leave them in).
    const keepPtys = options.keepPtys === true && !options.cleanupLanes && this.ctx.ptyHost !== null;
    const lanes = [...this.#lanes.values()];
    await Promise.allSettled(
      lanes.map(async (lane) => {
        if (options.cleanupLanes) {
          await lane.cleanup();
          return;
        }
        // A lane still provisioning finishes first; then its PTYs and task stop and it is kept. A
        // cleanup under way finishes; one that stalled is left, still recorded, for the next runtime.
        if (lane.state === 'new' || lane.state === 'provisioning') await lane.ready.catch(() => undefined);
        if (keepPtys) return;
        lane.send({ type: 'SUSPEND' });
        await lane.done;
      }),
    );
    if (keepPtys) this.ctx.ptyHost?.release();
    this.#root.stop();
    await this.ctx.ptyHost?.close({ keepPtys });
    await this.ctx.journal.flush();
    await this.ctx.journal.removeRuntime(this.id);
    await this.trace?.close();
    await this.lock.release();
    this.ctx.bus.publishLifecycle('runtime.stopped', { runtimeId: this.id });
  }

  /** The control socket, once reconciled: what the command line in other processes talks to. */
  async listenForControl(): Promise<void> {
    this.#control = await ControlSocket.listen(this);
  }

  /** Startup reconciliation (see supervision/recovery/), then `runtime.reconciled`. */
  async reconcile(graceMs: number | undefined, orphans = true, facts?: Promise<StartupFacts>): Promise<void> {
    this.reconciliation = await reconcileStartup(this.ctx, {
      ...(graceMs === undefined ? {} : { graceMs }),
      ...(facts === undefined ? {} : { facts }),
      orphans,
      lanes: {
        resume: async (record, lostPtys, adopt, revive) => {
          const lane = this.#startRecorded(record, 'ready');
          const adopted: string[] = [];
          const revived: string[] = [];
          const lost = [...lostPtys];
          // One after the other: adopting all of a lane's PTYs at once was measured slower (the
          // replies and their output then arrive as one flood the runtime works through).
          for (const adoptable of adopt) {
            const taken = await lane.adoptPty(adoptable).then(
              () => true,
              () => false,
            );
            (taken ? adopted : lost).push(adoptable.info.ptyId);
          }
          for (const revival of revive) {
            const started = await lane.revivePty(revival.ptyId, revival.options, revival.preface).then(
              () => true,
              () => false,
            );
            if (started) revived.push(revival.ptyId);
          }
          this.ctx.bus.publishLifecycle('lane.resumed', {
            laneId: lane.id,
            worktreePath: lane.worktreePath,
            branch: lane.branch,
            lostPtys: lost.filter((id) => !revived.includes(id)),
            adoptedPtys: adopted,
            revivedPtys: revived,
          });
          return adopted;
        },
        clean: async (record) => {
          const discard = record.phase === 'provisioning' || record.discard;
          const lane = this.#startRecorded(record, 'cleaning', discard);
          // A cleanup that stalls leaves the lane `cleaning`; what its branch step did is still told.
          const report = await lane.cleanup({ discard }).catch(() => null);
          return { report, branch: lane.resources.branchOutcome ?? 'absent' };
        },
      },
    });
    this.ctx.bus.publishLifecycle('runtime.reconciled', {
      runtimeId: this.id,
      ...structuredClone(this.reconciliation),
    });
  }

  /** A lane a record describes, brought back `ready` or to be cleaned. */
  #startRecorded(record: LaneRecord, resumeAs: 'ready' | 'cleaning', discard?: boolean): LaneController {
    const identity = identityOfRecord(record, this.ctx.worktreeRoot);
    const settings = recordedLaneSettings(this.ctx, record);
    return this.#start(identity, settings, createCorrelationId(), record.agents, resumeAs, record, discard);
  }

  #start(
    identity: LaneController['identity'],
    settings: LaneSettings,
    correlationId: string,
    agents: readonly string[],
    resumeAs?: 'ready' | 'cleaning',
    record?: LaneRecord,
    discard?: boolean,
  ): LaneController {
    const lane = new LaneController(this.ctx, identity, settings, agents, record, (done) =>
      this.#lanes.delete(done.id),
    );
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
        ...(discard === undefined ? {} : { discard }),
        ...(lane.resumedShared ? { shared: true } : {}),
        ...(resumeAs === 'ready' && lane.resumedBlockReason !== null ? { blockReason: lane.resumedBlockReason } : {}),
      },
    });
    lane.bind(this.#root.getSnapshot().children[identity.laneId] as LaneActorRef);
    return lane;
  }
}
