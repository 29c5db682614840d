import type { ActorRefFrom, Subscription } from 'xstate';
import { errorMessage, LanevisorError } from '../../bus/errors.js';
import { createCorrelationId, type LaneId } from '../../bus/ids.js';
import type { LaneSnapshot, laneMachine } from '../../machines/lane/lane.machine.js';
import { canAttachAgent, isAttachedAgent } from '../../machines/lane/lane-context.js';
import type { LaneEvent } from '../../machines/lane/lane-protocol.js';
import type { Adoptable } from '../pty/pty-adoption.js';
import type { Pty, SpawnPtyOptions } from '../pty/types.js';
import type { RuntimeContext } from '../runtime/runtime-context.js';
import { type LaneRecord, recordedAsShared } from '../state/lane-records.js';
import { CleanupTally } from './cleanup-tally.js';
import { LaneEventPublisher, type Publish } from './lane-events.js';
import { LaneExecs } from './lane-exec.js';
import { LaneOutcome } from './lane-outcome.js';
import { LanePtys } from './lane-ptys.js';
import { type LaneIdentity, LaneResources } from './lane-resources.js';
import type { LaneSettings } from './lane-settings.js';
import { relaySupervision } from './lane-supervision-relay.js';
import { commitLane, diffLane, type MergeOptions, mergeLane, type WorkflowLane } from './lane-workflow.js';
import type { CleanupOptions, CleanupReport, ExecOptions, ExecResult, Lane, LaneState } from './types.js';

export type LaneActorRef = ActorRefFrom<typeof laneMachine>;

const ACTIVE_STATES: readonly LaneState[] = ['ready', 'running', 'blocked', 'shared'];

function correlationIdNow(ctx: RuntimeContext): string {
  return ctx.bus.currentCorrelationId() ?? createCorrelationId();
}
const AGENT_ID_PATTERN = /^[^\0]{1,128}$/;

/**
 * One lane: the public handle (the contract's `Lane`) over a lane machine actor spawned under the
 * runtime's root actor. It owns the lane's PTYs (attaching each generation the lane machine spawns),
 * its effects and commands, and publishes the lane's life on the bus.
 */
export class LaneController implements Lane {
  readonly resources: LaneResources;
  readonly execs: LaneExecs;
  readonly terminals: LanePtys;
  readonly #publisher: LaneEventPublisher;
  readonly #outcome: LaneOutcome;
  #actor: LaneActorRef | undefined;
  #subscription: Subscription | undefined;
  readonly #tally = new CleanupTally();
  /** A resumed lane's record says it was shared: its machine starts shared, and nothing is shared anew. */
  readonly resumedShared: boolean;
  /** A resumed lane's record says a person blocked it, and why: it comes back blocked. */
  readonly resumedBlockReason: string | null;

  constructor(
    private readonly ctx: RuntimeContext,
    readonly identity: LaneIdentity,
    readonly settings: LaneSettings,
    initialAgents: readonly string[],
    existing: LaneRecord | undefined,
    /** Called as the lane actor ends, before anyone waiting on the lane is told. */
    private readonly onDone: (lane: LaneController) => void,
  ) {
    const publish: Publish = (topic, payload, correlationId) =>
      ctx.bus.publishLifecycle(topic, payload, { correlationId: correlationId ?? this.#correlationId() });
    this.resources = new LaneResources(
      ctx,
      identity,
      settings,
      (topic, payload) => publish(topic, payload),
      initialAgents,
      existing,
    );
    this.execs = new LaneExecs(ctx, identity.laneId, identity.worktreePath, settings.env, (topic, payload) =>
      publish(topic, payload),
    );
    this.terminals = new LanePtys(
      ctx,
      { id: identity.laneId, worktreePath: identity.worktreePath, env: settings.env },
      (event) => this.send(event),
      () => correlationIdNow(ctx),
    );
    this.resumedShared = existing !== undefined && recordedAsShared(existing);
    this.resumedBlockReason = existing?.blockReason ?? null;
    // The first agents are part of lane.created (or of the record), not attached later.
    this.#publisher = new LaneEventPublisher(identity.laneId, publish, initialAgents, this.resumedShared);
    this.#outcome = new LaneOutcome(identity.laneId, (failure) =>
      publish('lane.failed', { laneId: this.id, code: failure.code, message: failure.message }),
    );
  }

  get id(): LaneId {
    return this.identity.laneId;
  }
  get label(): string | null {
    return this.identity.label;
  }
  get branch(): string {
    return this.identity.branch;
  }
  get baseRef(): string {
    return this.identity.baseRef;
  }
  get worktreePath(): string {
    return this.identity.worktreePath;
  }
  get port(): number | null {
    return this.settings.port;
  }
  get createdAt(): number {
    return this.resources.record.createdAt;
  }
  get state(): LaneState {
    return this.#publisher.state;
  }
  get agents(): readonly string[] {
    return this.#actor?.getSnapshot().context.agents ?? [];
  }
  get blockReason(): string | null {
    // Kept in the context through a cleanup that began while blocked: only a blocked lane has one.
    return this.state === 'blocked' ? (this.#actor?.getSnapshot().context.blockReason ?? null) : null;
  }
  get shared(): boolean {
    return this.#actor?.getSnapshot().context.shared ?? false;
  }
  /** Resolves when the lane is first active; rejects with the provisioning failure (after its rollback). */
  get ready(): Promise<void> {
    return this.#outcome.ready;
  }
  /** Resolves when the lane actor is done: `closed`, or its last state when suspended by a shutdown. */
  get done(): Promise<LaneState> {
    return this.#outcome.done;
  }

  /** Takes over the lane actor the root spawned for this lane. */
  bind(actor: LaneActorRef): void {
    this.#actor = actor;
    this.#subscription = actor.subscribe({ next: (snapshot) => this.#onSnapshot(snapshot) });
    relaySupervision(actor, this.terminals, this.ctx.bus, this.id, () => this.#correlationId());
    this.#onSnapshot(actor.getSnapshot());
  }

  async diff(options: { readonly base?: string } = {}) {
    this.#assertActive('diff');
    return diffLane(this.ctx.repository, this.workflow, options.base);
  }

  async commit(message: string) {
    this.#assertActive('commit in');
    return commitLane(this.ctx.repository, this.workflow, message);
  }

  async merge(options: MergeOptions = {}) {
    this.#assertActive('merge');
    return mergeLane(this.ctx.repository, this.workflow, options);
  }

  /** What the lane's diff, commit, merge and conflicts need of it. */
  get workflow(): WorkflowLane {
    return { ...this.identity, id: this.id, baseSha: this.resources.record.baseSha };
  }

  /** The lane machine's task step: the task stops; at a cleanup, then lanevisor.json's teardown runs. */
  async stopTask(): Promise<void> {
    try {
      await this.resources.stopTask();
    } finally {
      if (this.#actor?.getSnapshot().context.intent === 'cleanup')
        this.#tally.tornDown(await this.resources.teardown());
    }
  }

  send(event: LaneEvent): void {
    this.#actor?.send(event);
  }

  async spawnPty(options?: SpawnPtyOptions): Promise<Pty> {
    this.#assertActive('spawn a PTY in');
    return this.terminals.spawn(options);
  }

  /** Takes over a PTY a dead runtime left in the terminal host (see LanePtys). */
  adoptPty(adoptable: Adoptable): Promise<Pty> {
    return this.terminals.adopt(adoptable);
  }

  /** Starts again a PTY whose processes were lost (see LanePtys). */
  revivePty(ptyId: string, options: SpawnPtyOptions, preface: string): Promise<Pty> {
    return this.terminals.revive(ptyId, options, preface);
  }

  ptys(): Pty[] {
    return this.terminals.list();
  }

  async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const request = this.execs.validate(argv, options);
    if (!ACTIVE_STATES.includes(this.state) || this.state === 'blocked') throw this.#invalidState('run a command in');
    const { execId, result } = this.execs.register(request);
    this.send({ type: 'EXEC', execId, correlationId: this.ctx.bus.currentCorrelationId() ?? createCorrelationId() });
    return result;
  }

  async share(): Promise<void> {
    this.#assertActive('share');
    this.send({ type: 'SHARE', ...this.#correlation() });
    await this.resources.update({ shared: true });
  }

  async attach(agentId: string): Promise<void> {
    if (typeof agentId !== 'string' || !AGENT_ID_PATTERN.test(agentId)) {
      throw new LanevisorError('INVALID_ARGUMENT', 'agentId must be a string of 1 to 128 characters');
    }
    this.#assertActive('attach an agent to');
    const context = (this.#actor as LaneActorRef).getSnapshot().context;
    const { agents } = context;
    if (isAttachedAgent(context, agentId)) return;
    if (!canAttachAgent(context, agentId)) {
      throw new LanevisorError(
        'INVALID_STATE',
        `lane ${this.id} already has agent ${agents[0]}; share the lane first`,
        {
          details: { laneId: this.id, agents },
        },
      );
    }
    this.send({ type: 'ATTACH', agentId, ...this.#correlation() });
    await this.resources.update({ agents: [...this.agents] });
  }

  async detach(agentId: string): Promise<void> {
    if (!isAttachedAgent({ agents: this.agents }, agentId)) {
      throw new LanevisorError('NOT_FOUND', `agent ${JSON.stringify(agentId)} is not attached to lane ${this.id}`);
    }
    this.send({ type: 'DETACH', agentId, ...this.#correlation() });
    // The last agent leaving unshares it.
    await this.resources.update({ agents: [...this.agents], shared: this.shared });
  }

  async block(reason: string): Promise<void> {
    if (typeof reason !== 'string' || reason.length === 0)
      throw new LanevisorError('INVALID_ARGUMENT', 'block needs a reason');
    this.#assertActive('block');
    this.send({ type: 'BLOCK', reason, ...this.#correlation() });
    // A person's block outlives the runtime ("waiting for a review" must not come back ready).
    await this.resources.update({ blockReason: reason });
  }

  async unblock(): Promise<void> {
    this.#assertActive('unblock');
    this.send({ type: 'UNBLOCK', ...this.#correlation() });
    await this.resources.update({ blockReason: null });
  }

  /** Idempotent: concurrent and later calls share the outcome; after a failed step, a new call resumes. */
  cleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
    const pending = this.#outcome.cleanup;
    if (pending !== undefined) return pending;
    if (typeof options.discard !== 'undefined' && typeof options.discard !== 'boolean') {
      return Promise.reject(new LanevisorError('INVALID_ARGUMENT', 'discard must be a boolean'));
    }
    this.#tally.started(this.terminals.running());
    const report = this.#outcome.startCleanup();
    const discard = options.discard === true;
    const correlation = this.#correlation();
    // Journaled before anything stops, so a crash from here on finishes the cleanup on restart.
    void this.resources
      .recordCleanupStarted(discard)
      .catch(() => undefined)
      .then(() => this.send({ type: 'CLEANUP', discard, ...correlation }));
    return report;
  }

  #onSnapshot(snapshot: LaneSnapshot): void {
    const before = this.#publisher.state;
    this.#publisher.observe(snapshot);
    if (this.#publisher.state === 'cleaning' && before !== 'cleaning') {
      // A cleanup that waited for provisioning (or a suspension) to end is journaled here.
      void this.resources.recordCleanupStarted(snapshot.context.discard).catch(() => undefined);
    }
    if (snapshot.matches('stopping')) this.execs.abandonWaiting();
    const state = this.#publisher.state;
    if (ACTIVE_STATES.includes(state)) this.#outcome.becameActive();
    const { failure, failedStep } = snapshot.context;
    if (failure !== null && failedStep === null) {
      this.#outcome.provisioningFailed(() => this.resources.lastError ?? new LanevisorError('GIT_ERROR', failure));
    }
    if (snapshot.matches({ cleaning: 'stalled' })) this.#failCleanup(snapshot);
    if (snapshot.status === 'done') this.#finish(snapshot);
  }

  /** The lane actor itself failed (a defect): the lane is reported failed and let go; its processes stay for reconciliation. */
  crashed(error: unknown): void {
    this.#subscription?.unsubscribe();
    this.onDone(this);
    const failure = new LanevisorError('INVALID_STATE', `the actor of lane ${this.id} failed: ${errorMessage(error)}`, {
      cause: error,
    });
    this.terminals.finishAll();
    this.#outcome.crashed(failure, this.#publisher.state);
  }

  #failCleanup(snapshot: LaneSnapshot): void {
    const cause = this.resources.lastError;
    this.#outcome.cleanupStalled(
      new LanevisorError(
        cause?.code ?? 'GIT_ERROR',
        `cleanup of lane ${this.id} stopped at ${snapshot.context.failedStep} (ask for it again to resume): ${cause?.message ?? snapshot.context.failure}`,
        { cause },
      ),
    );
  }

  #finish(snapshot: LaneSnapshot): void {
    this.#subscription?.unsubscribe();
    this.onDone(this);
    const report = snapshot.matches('closed') ? this.#closed(snapshot.context) : null;
    this.terminals.finishAll();
    this.#outcome.finished(this.#publisher.state, report);
  }

  /** The cleanup's report, built once; `lane.closed` carries it without the teardown (its steps had their own events). */
  #closed(context: LaneSnapshot['context']): CleanupReport {
    this.#outcome.announceProvisioningFailure();
    const report = this.#tally.report(this.identity, context);
    const { teardown: _told, ...closed } = report;
    this.ctx.bus.publishLifecycle('lane.closed', closed, { correlationId: context.correlationId });
    return report;
  }

  #assertActive(action: string): void {
    if (!ACTIVE_STATES.includes(this.state)) throw this.#invalidState(action);
  }

  #invalidState(action: string): LanevisorError {
    return new LanevisorError('INVALID_STATE', `cannot ${action} lane ${this.id}: it is ${this.state}`, {
      details: { laneId: this.id, state: this.state },
    });
  }

  #correlation(): { correlationId: string } {
    return { correlationId: this.ctx.bus.currentCorrelationId() ?? createCorrelationId() };
  }

  #correlationId(): string {
    return this.#actor?.getSnapshot().context.correlationId ?? createCorrelationId();
  }
}
