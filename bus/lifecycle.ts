import { z } from 'zod';
import { idPattern } from './ids.js';

/**
 * The catalog of lifecycle topics: each reserved topic lanevisor publishes, with the schema of its
 * payload. Publishing on a reserved topic that is not in this catalog, or with a payload that does
 * not match, is a VALIDATION_ERROR; docs/schema/bus.schema.json is generated from this catalog.
 */
const subscriptionIdSchema = z.string().regex(idPattern('subscription'));
const laneIdSchema = z.string().regex(idPattern('lane'));
const ptyIdSchema = z.string().regex(idPattern('pty'));
const pidSchema = z.number().int().positive();
const countSchema = z.number().int().nonnegative();

/** Why a lane branch is kept rather than deleted (see actors/git/branch-ownership.ts). */
export const BRANCH_KEPT_REASONS = [
  /** No marker of lanevisor's (or another lane's): lanevisor did not make it. */
  'not_ours',
  /** Its marker is no longer in its history (reset or rebased past where it started). */
  'history_changed',
  'upstream',
  /** A git config entry names it (`branch.<name>.*`, a refspec, …). */
  'configured',
  /** Checked out (or being rebased or bisected) in some worktree. */
  'checked_out',
  /** Commits beyond where the lane started (a lane), or that nothing else reaches (an orphan). */
  'commits',
  /** It moved while it was being deleted. */
  'moved',
  /** A lane record could not be read: any orphan branch may be that lane's. */
  'unreadable_record',
] as const;
const branchKeptReasonSchema = z.enum(BRANCH_KEPT_REASONS);

/**
 * What a runtime's startup reconciliation found and did (or, in a dry run, would do) with what an
 * earlier runtime left: `rt.reconciliation`, and the payload of `runtime.reconciled`.
 */
export const reconciliationReportSchema = z.strictObject({
  durationMs: countSchema,
  /** True when nothing was changed: the counts say what would have been done. */
  dryRun: z.boolean(),
  /** `found`: left running by a dead runtime (journaled or carrying its tag); `notOurs`: journaled pids that now name another process, never signalled; `survived`: would not die. */
  processes: z.strictObject({ found: countSchema, killed: countSchema, notOurs: countSchema, survived: countSchema }),
  /** PTYs of dead runtimes: `lost` (stopped), `adopted` (kept running by the terminal host and taken over by their lanes). */
  ptys: z.strictObject({ lost: countSchema, adopted: countSchema }),
  /** `stalled`: cleanups that failed; the lane stays `cleaning` and `lane.cleanup()` retries. */
  lanes: z.strictObject({ resumed: countSchema, cleaned: countSchema, salvaged: countSchema, stalled: countSchema }),
  /** Worktrees under the worktree root: `pruned` (directory gone: git's record removed), `removed` (a killed checkout, a directory git did not know, or a lane's worktree that the cleanup its record called for removed), `kept` (healthy without a record, left for a person). */
  worktrees: z.strictObject({ pruned: countSchema, removed: countSchema, kept: countSchema }),
  /** Lane branches lanevisor made that were deleted, or kept (commits nothing else reaches, an upstream, …). Branches it did not make are never counted or touched. */
  branches: z.strictObject({ removed: countSchema, kept: countSchema }),
  salvagedRefs: z.array(z.string()),
  /** Record files that could not be read: kept as they are, for a person to look at. */
  unreadableRecords: z.array(z.string()),
  /** What the counts above count, by name: the same lists in a dry run and in the run that follows it. */
  details: z.strictObject({
    processes: z.array(z.strictObject({ pid: pidSchema, command: z.string() })),
    lanes: z.strictObject({ resumed: z.array(z.string()), cleaned: z.array(z.string()) }),
    worktrees: z.strictObject({
      pruned: z.array(z.string()),
      removed: z.array(z.string()),
      kept: z.array(z.string()),
    }),
    branches: z.strictObject({
      removed: z.array(z.string()),
      kept: z.array(z.strictObject({ branch: z.string(), reason: branchKeptReasonSchema })),
    }),
  }),
});

/** The public states of a PTY (machines/pty-protocol.ts has the same list; supervision checks they agree). */
export const PTY_STATES = ['idle', 'spawning', 'active', 'throttled', 'errored', 'stopped'] as const;
const ptyStateSchema = z.enum(PTY_STATES);
const ptyRef = { laneId: laneIdSchema, ptyId: ptyIdSchema };

/** The public states of a lane (machines/lane/lane-protocol.ts has the same list; supervision checks they agree). */
export const LANE_STATES = [
  'new',
  'provisioning',
  'ready',
  'running',
  'blocked',
  'shared',
  'cleaning',
  'closed',
] as const;
const laneStateSchema = z.enum(LANE_STATES);
const laneRef = { laneId: laneIdSchema };
const errorCodeSchema = z.string();

export const LIFECYCLE_PAYLOAD_SCHEMAS = {
  'bus.subscriber_error': z.strictObject({
    subscriptionId: subscriptionIdSchema,
    pattern: z.string(),
    /** The event being delivered when the subscriber failed or was disconnected. */
    topic: z.string(),
    eventId: z.string(),
    code: z.enum(['HANDLER_ERROR', 'BACKPRESSURE']),
    message: z.string(),
  }),
  'bus.dropped': z.strictObject({
    subscriptionId: subscriptionIdSchema,
    pattern: z.string(),
    /** `started` at the first event dropped for a lagging subscriber; `ended` once it caught up. */
    phase: z.enum(['started', 'ended']),
    /** Events dropped in this episode so far. */
    dropped: z.number().int().nonnegative(),
    /** Events dropped for this subscription since it was made. */
    totalDropped: z.number().int().nonnegative(),
    /** The topic of the most recent dropped event. */
    lastTopic: z.string(),
  }),
  'pty.spawned': z.strictObject({
    ...ptyRef,
    pid: pidSchema,
    pgid: pidSchema,
    sid: pidSchema,
    /** Clock ticks since boot (/proc/<pid>/stat field 22): with the pid, names one process. */
    startTime: z.number().int(),
    /** The executable, resolved. */
    command: z.string(),
    args: z.array(z.string()),
    cwd: z.string(),
    cols: z.number().int(),
    rows: z.number().int(),
    name: z.string(),
    sessionId: z.string().nullable(),
    terminalId: z.string().nullable(),
    restarts: countSchema,
  }),
  'pty.state_changed': z.strictObject({
    ...ptyRef,
    from: ptyStateSchema,
    to: ptyStateSchema,
    reason: z.string().optional(),
  }),
  'pty.output': z.strictObject({
    ...ptyRef,
    data: z.string(),
    /** Byte offset of the batch's first byte in the PTY's whole output. */
    offset: countSchema,
    bytes: countSchema,
  }),
  'pty.resized': z.strictObject({ ...ptyRef, cols: z.number().int(), rows: z.number().int() }),
  'pty.signal': z.strictObject({
    ...ptyRef,
    signal: z.string(),
    /** `group`: the PTY's process group, `pid` being its id; `process`: one process. */
    target: z.enum(['group', 'process']),
    pid: z.number().int(),
    /** Epoch milliseconds. */
    sentAt: z.number().int(),
    outcome: z.enum(['delivered', 'not_found', 'not_ours', 'failed']),
    error: z.string().optional(),
  }),
  'pty.error': z.strictObject({
    ...ptyRef,
    /**
     * SPAWN_ERROR: the process could not start; LISTENER_ERROR: an onData listener threw;
     * ACTOR_ERROR: the PTY's own actor failed (a defect of lanevisor: the PTY ends errored, alone).
     */
    code: z.enum(['SPAWN_ERROR', 'LISTENER_ERROR', 'ACTOR_ERROR']),
    message: z.string(),
  }),
  'pty.idle': z.strictObject({ ...ptyRef, idleMs: countSchema }),
  /** `working`: printing or using CPU; `waiting`: its foreground program is blocked on the terminal's input; `idle`: nothing for idleTimeoutMs. */
  'pty.activity': z.strictObject({ ...ptyRef, activity: z.enum(['working', 'waiting', 'idle']) }),
  'pty.stopped': z.strictObject({
    ...ptyRef,
    state: z.enum(['stopped', 'errored']),
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    /** SIGKILL was needed to stop it. */
    escalated: z.boolean(),
    /** Bytes of output in all. */
    outputBytes: countSchema,
    /** Scrollback bytes dropped because no consumer needed them and the buffer was full. */
    droppedBytes: countSchema,
  }),
  'lane.created': z.strictObject({
    ...laneRef,
    label: z.string().nullable(),
    branch: z.string(),
    baseRef: z.string(),
    worktreePath: z.string(),
    agents: z.array(z.string()),
    /** Its `LANEVISOR_PORT` (lanevisor.json's `ports`), null when the file has none. */
    port: z.number().int().min(1).max(65_535).nullable(),
  }),
  'lane.state_changed': z.strictObject({
    ...laneRef,
    from: laneStateSchema,
    to: laneStateSchema,
    /** Why a lane is blocked (`task_stalled`, an escalation, the caller's reason). */
    reason: z.string().optional(),
  }),
  'lane.worktree_provisioned': z.strictObject({
    ...laneRef,
    worktreePath: z.string(),
    branch: z.string(),
    baseSha: z.string(),
    durationMs: countSchema,
  }),
  /** One step of a new lane's setup (copy, symlink, run) or of its teardown at cleanup, as it ends. */
  'lane.setup_step': z.strictObject({
    ...laneRef,
    /** 1-based, of `total` steps. */
    index: z.number().int().min(1),
    total: z.number().int().min(1),
    kind: z.enum(['copy', 'symlink', 'run', 'teardown']),
    /** The path or glob, or the command. */
    target: z.string(),
    /** A command's exit code (null when it was killed: a timeout). */
    exitCode: z.number().int().nullable().optional(),
    durationMs: countSchema,
    /** What was left alone: a glob that matched nothing, a file the worktree has already. */
    warnings: z.array(z.string()).optional(),
  }),
  'lane.task_bound': z.strictObject({ ...laneRef, backend: z.string(), facts: z.record(z.string(), z.unknown()) }),
  'lane.resumed': z.strictObject({
    ...laneRef,
    worktreePath: z.string(),
    branch: z.string(),
    /** PTYs that ran in the lane when its runtime died: stopped by the reconciliation, not restarted. */
    lostPtys: z.array(z.string()),
    /** PTYs the terminal host kept running: taken over, same ids and pids. */
    adoptedPtys: z.array(z.string()),
    /** Permanent or transient PTYs whose processes were gone: started again under their ids, their old screens above. */
    revivedPtys: z.array(z.string()),
  }),
  'lane.shared': z.strictObject({ ...laneRef }),
  'lane.agent_attached': z.strictObject({ ...laneRef, agentId: z.string() }),
  'lane.agent_detached': z.strictObject({ ...laneRef, agentId: z.string(), reason: z.enum(['detached', 'cleanup']) }),
  'lane.command_started': z.strictObject({ ...laneRef, execId: z.string(), argv: z.array(z.string()) }),
  'lane.command_completed': z.strictObject({
    ...laneRef,
    execId: z.string(),
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    durationMs: countSchema,
    timedOut: z.boolean(),
  }),
  'lane.task_stalled': z.strictObject({ ...laneRef, unhealthyForMs: countSchema }),
  'lane.task_killed': z.strictObject({ ...laneRef, backend: z.string() }),
  'lane.cleaning': z.strictObject({ ...laneRef, discard: z.boolean() }),
  'lane.salvaged': z.strictObject({ ...laneRef, ref: z.string() }),
  'lane.worktree_removed': z.strictObject({ ...laneRef, worktreePath: z.string() }),
  'lane.branch_kept': z.strictObject({
    ...laneRef,
    branch: z.string(),
    /** Commits beyond the lane's start (0 when it is kept for another reason). */
    commits: countSchema,
    reason: branchKeptReasonSchema,
  }),
  'lane.closed': z.strictObject({
    ...laneRef,
    branch: z.string(),
    branchKept: z.boolean(),
    salvagedRef: z.string().nullable(),
    ptysStopped: countSchema,
    durationMs: countSchema,
  }),
  'lane.failed': z.strictObject({ ...laneRef, code: errorCodeSchema, message: z.string() }),
  'runtime.reconciled': reconciliationReportSchema.extend({ runtimeId: z.string() }),
  /** A terminal host began to serve this runtime (the first, or one started after the last died). */
  'runtime.pty_host_started': z.strictObject({ runtimeId: z.string(), pid: pidSchema }),
  /** The terminal host died or stopped answering: these PTYs ended `errored` and are restarted per their restart type. */
  'runtime.pty_host_lost': z.strictObject({ runtimeId: z.string(), pid: pidSchema, lostPtys: z.array(z.string()) }),
  /** `shutdown()` began: how it was asked to end (what a watcher on another machine learns too). */
  'runtime.stopping': z.strictObject({ runtimeId: z.string(), cleanupLanes: z.boolean(), keepPtys: z.boolean() }),
  /** `shutdown()` is done: the runtime holds nothing any more (what is attached to it, a NATS link, ends). */
  'runtime.stopped': z.strictObject({ runtimeId: z.string() }),
  'supervisor.restarted': z.strictObject({
    ...ptyRef,
    /** The generation being started. */
    generation: z.number().int().min(2),
    restarts: countSchema,
    delayMs: countSchema,
  }),
  'supervisor.escalated': z.strictObject({ ...ptyRef, reason: z.string() }),
} as const satisfies Record<string, z.ZodType>;

export type LifecycleTopic = keyof typeof LIFECYCLE_PAYLOAD_SCHEMAS;
export type LifecyclePayload<T extends LifecycleTopic> = z.infer<(typeof LIFECYCLE_PAYLOAD_SCHEMAS)[T]>;

export function isLifecycleTopic(topic: string): topic is LifecycleTopic {
  return Object.hasOwn(LIFECYCLE_PAYLOAD_SCHEMAS, topic);
}
