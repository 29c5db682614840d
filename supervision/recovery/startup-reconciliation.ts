import { existsSync } from 'node:fs';
import { removeMarkerScratch } from '../../actors/git/branch-ownership.js';
import { withRepoLock } from '../../actors/git/repo-lock.js';
import type { Repository } from '../../actors/git/repository.js';
import { removeSalvageScratch } from '../../actors/git/salvage.js';
import { removeLocksLeftByKilledGit } from '../../actors/git/stale-locks.js';
import { listWorktrees } from '../../actors/git/worktrees.js';
import { readProcStat } from '../../actors/process/proc.js';
import type { HostBackend } from '../../actors/pty/host/host-client.js';
import { idPattern } from '../../bus/ids.js';
import { branchPrefixesOf } from '../lane/labels.js';
import type { LaneBranchOutcome } from '../lane/lane-resources.js';
import type { CleanupReport } from '../lane/types.js';
import type { Adoptable } from '../pty/pty-adoption.js';
import type { ReconciliationReport } from '../runtime/types.js';
import type { LaneRecord, LaneRecordStore } from '../state/lane-records.js';
import type { ProcessJournal } from '../state/process-journal.js';
import { type OrphanPlan, planOrphans, previewOrphans, removeOrphans } from './orphan-recovery.js';
import { planProcessRecovery, RECOVERY_GRACE_MS, stopOrphanProcesses } from './process-recovery.js';
import { endUnadopted, planAdoptions, type Revival, revivalsOf } from './pty-adoption-plan.js';
import { cleanLanes, predictCleanups } from './record-cleanups.js';
import { readStartupFacts, type StartupFacts } from './startup-facts.js';

/**
 * Bringing a repository back to a known state after a runtime died: first the processes it left
 * (nothing may write into a worktree while it is looked at), then what no record accounts for
 * (under the repository lock), then each recorded lane: back `ready` when its worktree is
 * healthy, otherwise cleaned (salvage first). A dry run looks at the same things and changes nothing.
 */
export interface RecoveryContext {
  readonly runtimeId: string;
  readonly repository: Repository;
  readonly worktreeRoot: string;
  readonly records: LaneRecordStore;
  readonly journal: ProcessJournal;
  /** lanevisor.json's, for its `branchPrefix`: branches under it may be lanevisor's too. */
  readonly config?: { readonly branchPrefix?: string | undefined };
  /** The terminal host, whose PTYs of dead runtimes are taken over (or ended). */
  readonly ptyHost: HostBackend | null;
  /** Where the host keeps the screens of PTYs (for PTYs started again). */
  readonly stateDir: string;
}

/** How the runtime brings a recorded lane back, or finishes it. */
export interface LaneRecovery {
  /**
   * Brings the lane back `ready`, taking over `adopt` (the host's PTYs of it) and starting again
   * `revive` (PTYs whose processes are gone, permanent or transient, with their old screens);
   * resolves with the ids adopted.
   */
  resume(
    record: LaneRecord,
    lostPtys: readonly string[],
    adopt: readonly Adoptable[],
    revive: readonly Revival[],
  ): Promise<readonly string[]>;
  /**
   * Cleans the lane (discarding when the record says so). `report` is null when a step failed
   * (the lane stays `cleaning`); `branch` says what the branch step did, if it ran.
   */
  clean(record: LaneRecord): Promise<{ readonly report: CleanupReport | null; readonly branch: LaneBranchOutcome }>;
}

export interface ReconcileOptions {
  /** Null for a dry run. */
  readonly lanes: LaneRecovery | null;
  readonly graceMs?: number;
  /** False: what no record accounts for is left alone (step 2 is skipped). Default true. */
  readonly orphans?: boolean;
  /** The records and worktrees as read before anything was stopped; read here when absent. */
  readonly facts?: Promise<StartupFacts>;
}

/** The report of a runtime before its reconciliation ran. */
export const EMPTY_RECONCILIATION: ReconciliationReport = {
  durationMs: 0,
  dryRun: false,
  processes: { found: 0, killed: 0, notOurs: 0, survived: 0 },
  ptys: { lost: 0, adopted: 0 },
  lanes: { resumed: 0, cleaned: 0, salvaged: 0, stalled: 0 },
  worktrees: { pruned: 0, removed: 0, kept: 0 },
  branches: { removed: 0, kept: 0 },
  salvagedRefs: [],
  unreadableRecords: [],
  details: {
    processes: [],
    lanes: { resumed: [], cleaned: [] },
    worktrees: { pruned: [], removed: [], kept: [] },
    branches: { removed: [], kept: [] },
  },
};

/** The orphan plan of a reconciliation told to leave them alone. */
const NO_ORPHANS: OrphanPlan = {
  prune: [],
  unfinished: [],
  kept: [],
  strays: [],
  branches: [],
  keptBranches: [],
  staleMarkers: [],
};

export async function reconcileStartup(ctx: RecoveryContext, options: ReconcileOptions): Promise<ReconciliationReport> {
  const started = performance.now();
  const dryRun = options.lanes === null;
  // The host is asked what it holds while the records are read (read already when given).
  const [{ ptys, runtimes, lanes, before }, hosted] = await Promise.all([
    options.facts ?? readStartupFacts(ctx),
    ctx.ptyHost?.list() ?? null,
  ]);
  const deadRuntimes = runtimes.records.map((entry) => entry.runtimeId).filter((id) => id !== ctx.runtimeId);
  // The host's PTYs of lanes that come back are taken over: their processes are spared.
  const adoptions = planAdoptions(hosted, lanes.records);
  const processPlan = planProcessRecovery(
    ptys.records,
    [...deadRuntimes, ...ptys.records.map((p) => p.runtimeId)],
    adoptions.kept,
  );
  const processes = processPlan.found.map((member) => ({
    pid: member.pid,
    command: readProcStat(member.pid)?.comm ?? '?',
  }));
  let stopped: Awaited<ReturnType<typeof stopOrphanProcesses>> = { killed: 0, survived: 0, gitKilledBy: null };
  if (!dryRun) {
    stopped = await stopOrphanProcesses(processPlan, options.graceMs ?? RECOVERY_GRACE_MS);
    // Kept while something survived: the next start looks for those processes again.
    if (stopped.survived === 0) {
      for (const record of ptys.records) if (!adoptions.kept.has(record.ptyId)) ctx.journal.ptyStopped(record.ptyId);
      await Promise.all([ctx.journal.flush(), ...deadRuntimes.map((id) => ctx.journal.removeRuntime(id))]);
    }
  }

  const { orphans, plan, worktrees } = await withRepoLock(ctx.repository.commonDir, async () => {
    // A git that had to be killed may have left a lock file that would stall every cleanup.
    if (stopped.gitKilledBy !== null) {
      for (const prefix of branchPrefixesOf(ctx.config?.branchPrefix))
        await removeLocksLeftByKilledGit(ctx.repository, prefix, idPattern('lane'), stopped.gitKilledBy);
    }
    const listed = listWorktrees(ctx.repository);
    if (options.orphans === false)
      return { orphans: previewOrphans(NO_ORPHANS), plan: NO_ORPHANS, worktrees: await listed };
    const plan = await planOrphans(
      ctx.repository,
      ctx.worktreeRoot,
      listed,
      lanes.records,
      lanes.problems.length,
      branchPrefixesOf(ctx.config?.branchPrefix),
    );
    const worktrees = await listed;
    const outcome = dryRun ? previewOrphans(plan) : await removeOrphans(ctx.repository, ctx.worktreeRoot, plan);
    // A salvage killed half way left its temporary index; the worktree it read is still there.
    if (!dryRun) await Promise.all([removeSalvageScratch(ctx.repository), removeMarkerScratch(ctx.repository)]);
    return { orphans: outcome, plan, worktrees };
  });

  const registered = new Set(worktrees.map((w) => w.path));
  const healthy = (record: LaneRecord) =>
    record.phase === 'ready' && registered.has(record.worktreePath) && existsSync(record.worktreePath);
  const resumed = lanes.records.filter(healthy);
  const toClean = lanes.records.filter((record) => !healthy(record));
  const adopted = new Set<string>();
  if (options.lanes !== null) {
    const recovery = options.lanes;
    await Promise.all(
      resumed.map(async (record) => {
        const lost = processPlan.lostPtys.get(record.laneId) ?? [];
        const revive = revivalsOf(ctx.stateDir, ptys.records, lost);
        const ids = await recovery.resume(record, lost, adoptions.byLane.get(record.laneId) ?? [], revive);
        for (const id of ids) adopted.add(id);
      }),
    );
    // Kept for a lane that turned out not to come back, or whose adoption failed: ended after all.
    const unadopted = [...adoptions.byLane.values()].flat().filter((a) => !adopted.has(a.info.ptyId));
    await endUnadopted(
      ctx.ptyHost,
      [...adoptions.others, ...unadopted.map((a) => a.info)],
      options.graceMs ?? RECOVERY_GRACE_MS,
    );
  }
  const cleaned = await (options.lanes === null
    ? predictCleanups(ctx.repository, ctx.worktreeRoot, toClean, registered, before)
    : cleanLanes(ctx.repository, options.lanes, toClean, before));
  const branchesRemoved = [...orphans.branchesRemoved, ...cleaned.branchesRemoved];
  const branchesKept = [...orphans.branchesKept, ...cleaned.branchesKept];
  const worktreesPruned = [...plan.prune.map((w) => w.path), ...cleaned.worktreesPruned];
  const worktreesRemoved = [...plan.unfinished.map((w) => w.path), ...plan.strays, ...cleaned.worktreesRemoved];

  return {
    durationMs: Math.round(performance.now() - started),
    dryRun,
    processes: {
      found: processPlan.found.length,
      killed: stopped.killed,
      notOurs: processPlan.notOurs,
      survived: stopped.survived,
    },
    ptys: {
      lost: ptys.records.filter((record) => !adoptions.kept.has(record.ptyId)).length,
      adopted: dryRun ? adoptions.kept.size : adopted.size,
    },
    lanes: {
      resumed: resumed.length,
      cleaned: cleaned.laneIds.length,
      salvaged: cleaned.salvaged,
      stalled: cleaned.stalled,
    },
    worktrees: {
      pruned: orphans.pruned + cleaned.worktreesPruned.length,
      removed: orphans.removed + cleaned.worktreesRemoved.length,
      kept: orphans.kept,
    },
    branches: { removed: branchesRemoved.length, kept: branchesKept.length },
    salvagedRefs: [...orphans.salvagedRefs, ...cleaned.refs],
    unreadableRecords: [...lanes.problems, ...ptys.problems, ...runtimes.problems].map((problem) => problem.file),
    details: {
      processes,
      lanes: { resumed: resumed.map((record) => record.laneId), cleaned: cleaned.laneIds },
      worktrees: { pruned: worktreesPruned, removed: worktreesRemoved, kept: plan.kept.map((w) => w.path) },
      branches: { removed: branchesRemoved, kept: branchesKept },
    },
  };
}
