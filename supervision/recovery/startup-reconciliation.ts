import { existsSync, readdirSync } from 'node:fs';
import { withRepoLock } from '../../actors/git/repo-lock.js';
import type { Repository } from '../../actors/git/repository.js';
import { hasUncommittedWork, removeSalvageScratch } from '../../actors/git/salvage.js';
import { listWorktrees } from '../../actors/git/worktrees.js';
import type { CleanupReport } from '../lane/types.js';
import type { ReconciliationReport } from '../runtime/types.js';
import type { LaneRecord, LaneRecordStore } from '../state/lane-records.js';
import type { ProcessJournal } from '../state/process-journal.js';
import { planOrphans, previewOrphans, removeOrphans } from './orphan-recovery.js';
import { planProcessRecovery, RECOVERY_GRACE_MS, stopOrphanProcesses } from './process-recovery.js';

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
}

/** How the runtime brings a recorded lane back, or finishes it. */
export interface LaneRecovery {
  resume(record: LaneRecord, lostPtys: readonly string[]): void;
  /** Cleans the lane (discarding when the record says so); rejects when a step failed. */
  clean(record: LaneRecord): Promise<CleanupReport>;
}

export interface ReconcileOptions {
  /** Null for a dry run. */
  readonly lanes: LaneRecovery | null;
  readonly graceMs?: number;
}

export async function reconcileStartup(ctx: RecoveryContext, options: ReconcileOptions): Promise<ReconciliationReport> {
  const started = performance.now();
  const dryRun = options.lanes === null;
  const [ptys, runtimes, lanes] = await Promise.all([
    ctx.journal.ptyRecords(),
    ctx.journal.runtimeEntries(),
    ctx.records.list(),
  ]);
  const deadRuntimes = runtimes.records.map((entry) => entry.runtimeId).filter((id) => id !== ctx.runtimeId);
  const processPlan = planProcessRecovery(ptys.records, [...deadRuntimes, ...ptys.records.map((p) => p.runtimeId)]);
  let stopped = { killed: 0, survived: 0 };
  if (!dryRun) {
    stopped = await stopOrphanProcesses(processPlan, options.graceMs ?? RECOVERY_GRACE_MS);
    // Kept while something survived: the next start looks for those processes again.
    if (stopped.survived === 0) {
      for (const record of ptys.records) ctx.journal.ptyStopped(record.ptyId);
      await Promise.all([ctx.journal.flush(), ...deadRuntimes.map((id) => ctx.journal.removeRuntime(id))]);
    }
  }

  const { orphans, worktrees } = await withRepoLock(ctx.repository.commonDir, async () => {
    const worktrees = await listWorktrees(ctx.repository);
    const plan = await planOrphans(ctx.repository, ctx.worktreeRoot, worktrees, lanes.records, lanes.problems.length);
    const outcome = dryRun
      ? await previewOrphans(ctx.repository, plan)
      : await removeOrphans(ctx.repository, ctx.worktreeRoot, plan);
    // A salvage killed half way left its temporary index; the worktree it read is still there.
    if (!dryRun) await removeSalvageScratch(ctx.repository);
    return { orphans: outcome, worktrees };
  });

  const registered = new Set(worktrees.map((w) => w.path));
  const healthy = (record: LaneRecord) =>
    record.phase === 'ready' && registered.has(record.worktreePath) && existsSync(record.worktreePath);
  const resumed = lanes.records.filter(healthy);
  const toClean = lanes.records.filter((record) => !healthy(record));
  const cleaned = { count: 0, salvaged: 0, stalled: 0, branchesRemoved: 0, branchesKept: 0, refs: [] as string[] };
  if (options.lanes === null) {
    cleaned.count = toClean.length;
    for (const record of toClean) if (await wouldSalvage(record, registered)) cleaned.salvaged++;
  } else {
    const recovery = options.lanes;
    for (const record of resumed) recovery.resume(record, processPlan.lostPtys.get(record.laneId) ?? []);
    await Promise.all(
      toClean.map(async (record) => {
        try {
          const report = await recovery.clean(record);
          cleaned.count++;
          if (report.salvagedRef !== null) cleaned.refs.push(report.salvagedRef);
          if (report.branchKept) cleaned.branchesKept++;
          else cleaned.branchesRemoved++;
        } catch {
          // The lane stays `cleaning` in rt.lanes(); lane.cleanup() resumes it.
          cleaned.stalled++;
        }
      }),
    );
    cleaned.salvaged = cleaned.refs.length;
  }

  return {
    durationMs: Math.round(performance.now() - started),
    dryRun,
    processes: {
      found: processPlan.found.length,
      killed: stopped.killed,
      notOurs: processPlan.notOurs,
      survived: stopped.survived,
    },
    ptys: { lost: ptys.records.length },
    lanes: { resumed: resumed.length, cleaned: cleaned.count, salvaged: cleaned.salvaged, stalled: cleaned.stalled },
    worktrees: { pruned: orphans.pruned, removed: orphans.removed, kept: orphans.kept },
    branches: {
      removed: orphans.branchesRemoved + cleaned.branchesRemoved,
      kept: orphans.branchesKept + cleaned.branchesKept,
    },
    salvagedRefs: [...orphans.salvagedRefs, ...cleaned.refs],
    unreadableRecords: [...lanes.problems, ...ptys.problems, ...runtimes.problems].map((problem) => problem.file),
  };
}

/** Whether cleaning this lane would save something: uncommitted work in a worktree, or files in a bare directory. */
async function wouldSalvage(record: LaneRecord, registered: ReadonlySet<string>): Promise<boolean> {
  if (record.discard || record.phase === 'provisioning' || !existsSync(record.worktreePath)) return false;
  if (!registered.has(record.worktreePath)) return readdirSync(record.worktreePath).some((name) => name !== '.git');
  return hasUncommittedWork(record.worktreePath).catch(() => true);
}
