import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { BranchKeptReason } from '../../actors/git/branch-ownership.js';
import { assertInside } from '../../actors/git/paths.js';
import { withRepoLock } from '../../actors/git/repo-lock.js';
import { resolveCommit } from '../../actors/git/repository.js';
import { hasUncommittedWork, salvageDirectory, salvageWorktree } from '../../actors/git/salvage.js';
import { addWorktree, isKnownWorktree, removeWorktree } from '../../actors/git/worktrees.js';
import { BUILTIN_TASK_GRACE_MS, LANE_TAG_VARIABLE, stopTaggedTree } from '../../actors/task/builtin-task.js';
import type { TaskBinding, TaskLane } from '../../actors/task/task-backend.js';
import { isLanevisorError, LanevisorError } from '../../bus/errors.js';
import type { LaneId } from '../../bus/ids.js';
import type { LifecyclePayload, LifecycleTopic } from '../../bus/lifecycle.js';
import { DEFAULT_SETUP_TIMEOUT_MS } from '../config/config-schema.js';
import { laneLogPath } from '../runtime/lane-logs.js';
import type { RuntimeContext } from '../runtime/runtime-context.js';
import type { LaneRecord } from '../state/lane-records.js';
import { laneLockReason } from './labels.js';
import { removeLaneBranch } from './lane-branch.js';
import type { LaneSettings } from './lane-settings.js';
import { runSetup, runTeardown, type SetupPlace } from './lane-setup.js';

/**
 * The effects of one lane, each a step the lane machine invokes: provision (record, worktree,
 * task), salvage, worktree and branch removal, record removal, stopping the task. Every step that
 * creates or destroys something is written to the lane's record first.
 */
export interface LaneIdentity {
  readonly laneId: LaneId;
  readonly label: string | null;
  readonly branch: string;
  readonly baseRef: string;
  readonly worktreePath: string;
  /** The root its worktree was made under (a runtime started with another root still cleans it). */
  readonly worktreeRoot: string;
}

/** What the cleanup did with the lane's branch: removed, never there (or not made by this lane), or kept and why. */
export type LaneBranchOutcome = 'removed' | 'absent' | BranchKeptReason;

/**
 * A recorded lane's identity. Its worktree root is where its worktree was made (a lane made with
 * another `worktreeRoot` is still cleaned), trusted only when the directory is named by the lane's
 * id as lanevisor names it; a record naming any other path gets this runtime's root, so a record
 * edited to point elsewhere is refused rather than acted on.
 */
export function identityOfRecord(record: LaneRecord, runtimeRoot: string): LaneIdentity {
  return {
    laneId: record.laneId as LaneId,
    label: record.label,
    branch: record.branch,
    baseRef: record.baseRef,
    worktreePath: record.worktreePath,
    worktreeRoot: basename(record.worktreePath) === record.laneId ? dirname(record.worktreePath) : runtimeRoot,
  };
}

export class LaneResources {
  record: LaneRecord;
  /** Set by the cleanup's branch step. */
  branchOutcome: LaneBranchOutcome | undefined;
  /** The error of the last step that failed, with its code, for the caller waiting on the lane. */
  lastError: LanevisorError | undefined;
  #binding: TaskBinding | null;
  #lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: RuntimeContext,
    readonly identity: LaneIdentity,
    private readonly settings: LaneSettings,
    private readonly publish: <T extends LifecycleTopic>(topic: T, payload: LifecyclePayload<T>) => void,
    initialAgents: readonly string[],
    existing?: LaneRecord,
  ) {
    this.record = existing ?? {
      version: 1,
      laneId: identity.laneId,
      label: identity.label,
      branch: identity.branch,
      baseRef: identity.baseRef,
      baseSha: '',
      worktreePath: identity.worktreePath,
      repo: ctx.repository.topLevel,
      runtimeId: ctx.runtimeId,
      createdAt: Date.now(),
      phase: 'provisioning',
      agents: [...initialAgents],
      task: null,
      discard: false,
      port: settings.port,
      template: settings.plan.template,
    };
    this.#binding = existing?.task ?? null;
  }

  /** Only a branch this lane created is ever deleted: the record holds a base once the branch may exist. */
  get #createdBranch(): boolean {
    return this.record.baseSha !== '';
  }

  get taskLane(): TaskLane {
    return {
      laneId: this.identity.laneId,
      label: this.identity.label,
      repo: this.ctx.repository.topLevel,
      worktreePath: this.identity.worktreePath,
      branch: this.identity.branch,
      baseSha: this.record.baseSha,
      runtimeId: this.ctx.runtimeId,
    };
  }

  /**
   * Changes the record and writes it; writes (and the final removal) land in the order asked. A
   * change the record already holds is not written again (a cleanup journals its start, then its
   * salvage step asks for the same phase).
   */
  async update(change: Partial<LaneRecord>): Promise<void> {
    const current = this.record as Record<string, unknown>;
    if (Object.entries(change).every(([key, value]) => isDeepStrictEqual(current[key], value))) {
      await this.#lastWrite;
      return;
    }
    this.record = { ...this.record, ...change };
    const record = this.record;
    await this.#inOrder(() => this.ctx.records.write(record));
  }

  /** The record says cleanup started (before the PTYs are stopped), unless it already does. */
  async recordCleanupStarted(discard: boolean): Promise<void> {
    if (this.record.phase === 'cleaning' || this.record.phase === 'provisioning') return;
    await this.update({ phase: 'cleaning', discard });
  }

  /** Runs a step, keeping its error (with its code) for the lane's caller; the machine sees the failure too. */
  async step<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.lastError =
        error instanceof LanevisorError ? error : new LanevisorError('GIT_ERROR', String(error), { cause: error });
      throw this.lastError;
    }
  }

  /**
   * Base commit → record (intent, with the base: "the branch may exist from now on") → worktree
   * and branch (under the repository lock) → task → record (ready). The record is written outside
   * the lock: its fsync would otherwise hold every other lane's `worktree add` up on a disk.
   */
  async provision(): Promise<void> {
    const started = performance.now();
    const { repository } = this.ctx;
    const { worktreeRoot } = this.identity;
    const baseSha = await resolveCommit(repository, this.identity.baseRef);
    // Recorded before git creates anything: a crash from here on leaves a record to reconcile.
    await this.update({ phase: 'provisioning', baseSha });
    try {
      await withRepoLock(repository.commonDir, () =>
        addWorktree(repository, worktreeRoot, {
          path: this.identity.worktreePath,
          branch: this.identity.branch,
          baseSha,
          lockReason: laneLockReason(this.identity.laneId),
          sparse: this.settings.plan.sparse,
        }),
      );
    } catch (error) {
      if (isLanevisorError(error, 'ALREADY_EXISTS')) {
        // Someone else's branch: never ours to delete, and the record must not claim it.
        await this.update({ baseSha: '' });
      }
      throw error;
    }
    this.publish('lane.worktree_provisioned', {
      laneId: this.identity.laneId,
      worktreePath: this.identity.worktreePath,
      branch: this.identity.branch,
      baseSha,
      durationMs: Math.round(performance.now() - started),
    });
    // Still provisioning: a failure (or a crash) rolls the lane back, discarding what setup made.
    if (this.settings.plan.setup !== null) await runSetup(this.settings.plan.setup, this.#setupPlace);
    this.#binding = await this.ctx.task.bind(this.taskLane);
    await this.update({ phase: 'ready', task: this.#binding });
    this.publish('lane.task_bound', {
      laneId: this.identity.laneId,
      backend: this.#binding.backend,
      facts: this.#binding.facts,
    });
  }

  /**
   * lanevisor.json's `teardown.run`, at a cleanup of a lane that was ready, after its PTYs and task
   * stopped and before anything is removed; undefined when it has none. Never throws.
   */
  async teardown(): Promise<{ readonly ok: boolean; readonly message?: string } | undefined> {
    const commands = this.settings.plan.teardown;
    // A lane that never became ready (its setup failed) is not torn down: it was never up.
    if (commands.length === 0 || this.record.phase === 'provisioning' || !existsSync(this.identity.worktreePath))
      return undefined;
    const timeoutMs = this.settings.plan.setup?.timeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    return runTeardown(commands, timeoutMs, this.#setupPlace);
  }

  get #setupPlace(): SetupPlace {
    return {
      laneId: this.identity.laneId,
      runtimeId: this.ctx.runtimeId,
      mainTree: this.ctx.repository.topLevel,
      worktreePath: this.identity.worktreePath,
      logPath: laneLogPath(this.ctx.stateDir, this.identity.laneId),
      env: this.settings.env,
      publish: (payload) => this.publish('lane.setup_step', payload),
    };
  }

  async taskHealthy(): Promise<boolean> {
    return this.#binding === null ? true : this.ctx.task.health(this.#binding, this.taskLane);
  }

  /** Ends the task, then every process still carrying the lane's tag (setsid escapees included). */
  async stopTask(): Promise<void> {
    try {
      if (this.#binding !== null) await this.ctx.task.terminate(this.#binding, this.taskLane);
    } finally {
      if (this.ctx.task.name !== 'builtin')
        await stopTaggedTree(LANE_TAG_VARIABLE, this.identity.laneId, BUILTIN_TASK_GRACE_MS);
    }
  }

  /**
   * Saves uncommitted and untracked work to a ref, unless discarding; the record says cleaning
   * first. A directory git no longer knows as a worktree is saved file by file on top of the base.
   */
  async salvage(discard: boolean): Promise<{ salvagedRef: string | null }> {
    await this.update({ phase: 'cleaning', discard });
    const path = this.identity.worktreePath;
    // A record naming a path outside the root (edited, corrupted) is never acted on, not even read.
    assertInside(this.identity.worktreeRoot, path);
    if (discard || !existsSync(path)) return { salvagedRef: null };
    const known = isKnownWorktree(path);
    if (known && !(await hasUncommittedWork(path))) return { salvagedRef: null };
    const message = `lanevisor: salvage of lane ${this.identity.laneId} (${this.identity.branch})`;
    const { repository } = this.ctx;
    const ref = await withRepoLock(repository.commonDir, () =>
      known
        ? salvageWorktree(repository, path, this.identity.laneId, message)
        : salvageDirectory(repository, path, this.identity.laneId, message, this.record.baseSha || null),
    );
    if (ref === null) return { salvagedRef: null };
    this.publish('lane.salvaged', { laneId: this.identity.laneId, ref });
    return { salvagedRef: ref };
  }

  async removeWorktree(): Promise<void> {
    const { repository } = this.ctx;
    await withRepoLock(repository.commonDir, () =>
      removeWorktree(repository, this.identity.worktreeRoot, this.identity.worktreePath),
    );
    this.publish('lane.worktree_removed', { laneId: this.identity.laneId, worktreePath: this.identity.worktreePath });
  }

  /**
   * Deletes the lane's branch when lanevisor can prove it made it (its marker, at the recorded
   * start, still in its history) and nothing of the user's points at it, unless it holds commits
   * beyond its start (kept unless discarding). A kept branch is handed over: its marker goes, so
   * nothing of lanevisor's ever deletes it later. Read outside the lock; deleted by compare-and-swap.
   */
  async removeBranch(discard: boolean): Promise<{ branchKept: boolean }> {
    this.branchOutcome = this.#createdBranch
      ? await removeLaneBranch(this.ctx.repository, this.identity, this.record.baseSha, discard, (payload) =>
          this.publish('lane.branch_kept', payload),
        )
      : 'absent';
    return { branchKept: this.branchOutcome !== 'absent' && this.branchOutcome !== 'removed' };
  }

  async removeRecord(): Promise<void> {
    await this.#inOrder(() => this.ctx.records.remove(this.identity.laneId));
  }

  #inOrder(write: () => Promise<void>): Promise<void> {
    const turn = this.#lastWrite.then(write, write);
    this.#lastWrite = turn.catch(() => undefined);
    return turn;
  }
}
