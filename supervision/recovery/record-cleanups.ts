import { existsSync, readdirSync } from 'node:fs';
import { type BranchKeptReason, decideLaneBranch } from '../../actors/git/branch-ownership.js';
import { isInside } from '../../actors/git/paths.js';
import type { Repository } from '../../actors/git/repository.js';
import { hasUncommittedWork } from '../../actors/git/salvage.js';
import { listWorktrees } from '../../actors/git/worktrees.js';
import { identityOfRecord, type LaneBranchOutcome } from '../lane/lane-resources.js';
import type { LaneRecord } from '../state/lane-records.js';
import type { LaneRecovery } from './startup-reconciliation.js';

/**
 * The lanes a startup reconciliation cleans through their records (killed while provisioning or
 * while cleaning): cleaned and counted, or, in a dry run, predicted by the same decisions.
 */

export interface CleanedLanes {
  readonly laneIds: string[];
  salvaged: number;
  stalled: number;
  readonly refs: string[];
  readonly branchesRemoved: string[];
  readonly branchesKept: Array<{ branch: string; reason: BranchKeptReason }>;
  /** Lane worktrees whose cleanup removed them (a directory, registered with git or not). */
  readonly worktreesRemoved: string[];
  /** Lane worktrees git still listed whose directory was gone: their cleanup pruned git's record. */
  readonly worktreesPruned: string[];
}

function emptyCleaned(): CleanedLanes {
  return {
    laneIds: [],
    salvaged: 0,
    stalled: 0,
    refs: [],
    branchesRemoved: [],
    branchesKept: [],
    worktreesRemoved: [],
    worktreesPruned: [],
  };
}

/** Tallies what a lane's cleanup did with its branch. */
function countBranch(cleaned: CleanedLanes, branch: string, outcome: LaneBranchOutcome | 'delete'): void {
  if (outcome === 'removed' || outcome === 'delete') cleaned.branchesRemoved.push(branch);
  else if (outcome !== 'absent') cleaned.branchesKept.push({ branch, reason: outcome });
}

/** What of a recorded lane's worktree is there: its directory, git's record of it. */
export interface WorktreePresence {
  readonly path: string;
  readonly directory: boolean;
  readonly registered: boolean;
}

/** Each recorded lane's worktree as it is: its directory, git's record of it (one `worktree list` when there are lanes). */
export async function presenceOf(
  repository: Repository,
  records: readonly LaneRecord[],
): Promise<ReadonlyMap<string, WorktreePresence>> {
  if (records.length === 0) return new Map();
  const listed = new Set((await listWorktrees(repository)).map((w) => w.path));
  return new Map(
    records.map(({ laneId, worktreePath: path }) => [
      laneId,
      { path, directory: existsSync(path), registered: listed.has(path) },
    ]),
  );
}

/** Tallies a lane worktree that is gone now: a directory removed, or only git's record of it pruned. */
function countWorktree(cleaned: CleanedLanes, before: WorktreePresence): void {
  if (before.directory) cleaned.worktreesRemoved.push(before.path);
  else if (before.registered) cleaned.worktreesPruned.push(before.path);
}

/** A record naming a path outside its worktree root: its cleanup refuses to act on it (and stalls). */
function refusedPath(record: LaneRecord, runtimeRoot: string): boolean {
  return !isInside(identityOfRecord(record, runtimeRoot).worktreeRoot, record.worktreePath);
}

/**
 * Cleans the lanes whose records say so, through the runtime's `recovery.clean`, and counts what the
 * cleanups did: lanes closed or stalled, salvage refs, branches removed or kept, worktrees
 * removed (a stalled cleanup's too, when it got that far) or pruned.
 */
export async function cleanLanes(
  repository: Repository,
  recovery: Pick<LaneRecovery, 'clean'>,
  toClean: readonly LaneRecord[],
  before: ReadonlyMap<string, WorktreePresence>,
): Promise<CleanedLanes> {
  const cleaned = emptyCleaned();
  const stalled: WorktreePresence[] = [];
  await Promise.all(
    toClean.map(async (record) => {
      const { report, branch } = await recovery
        .clean(record)
        .catch(() => ({ report: null, branch: 'absent' as const }));
      // What the branch step did counts even when a later step failed.
      countBranch(cleaned, record.branch, branch);
      const presence = before.get(record.laneId) as WorktreePresence;
      if (report === null) {
        // The lane stays `cleaning` in rt.lanes(); lane.cleanup() resumes it.
        cleaned.stalled++;
        stalled.push(presence);
        return;
      }
      cleaned.laneIds.push(record.laneId);
      if (report.salvagedRef !== null) cleaned.refs.push(report.salvagedRef);
      // A finished cleanup removed its worktree (verified with git's list).
      countWorktree(cleaned, presence);
    }),
  );
  // A cleanup that stalled may have removed its worktree before the step that failed.
  const leftBehind = stalled.filter((p) => p.directory || p.registered);
  if (leftBehind.length > 0) {
    const listed = new Set((await listWorktrees(repository)).map((w) => w.path));
    for (const presence of leftBehind)
      if (!existsSync(presence.path) && !listed.has(presence.path)) countWorktree(cleaned, presence);
  }
  cleaned.salvaged = cleaned.refs.length;
  return cleaned;
}

/** What cleaning these lanes would do: the same decisions their cleanups make, changing nothing. */
export async function predictCleanups(
  repository: Repository,
  worktreeRoot: string,
  toClean: readonly LaneRecord[],
  registered: ReadonlySet<string>,
  before: ReadonlyMap<string, WorktreePresence>,
): Promise<CleanedLanes> {
  const cleaned = emptyCleaned();
  for (const record of toClean) {
    if (refusedPath(record, worktreeRoot)) {
      cleaned.stalled++;
      continue;
    }
    cleaned.laneIds.push(record.laneId);
    countWorktree(cleaned, before.get(record.laneId) as WorktreePresence);
    if (await wouldSalvage(record, registered)) cleaned.salvaged++;
    if (record.baseSha === '') continue;
    const discard = record.phase === 'provisioning' || record.discard;
    const { verdict } = await decideLaneBranch(
      repository,
      record.branch,
      record.baseSha,
      discard,
      new Set([record.worktreePath]),
    );
    countBranch(cleaned, record.branch, verdict);
  }
  return cleaned;
}

/** Whether cleaning this lane would save something: uncommitted work in a worktree, or files in a bare directory. */
async function wouldSalvage(record: LaneRecord, registered: ReadonlySet<string>): Promise<boolean> {
  if (record.discard || record.phase === 'provisioning' || !existsSync(record.worktreePath)) return false;
  if (!registered.has(record.worktreePath)) return readdirSync(record.worktreePath).some((name) => name !== '.git');
  return hasUncommittedWork(record.worktreePath).catch(() => true);
}
