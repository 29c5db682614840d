import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { commitsOnlyOn, deleteBranch, listBranches } from '../../actors/git/branches.js';
import { isInside } from '../../actors/git/paths.js';
import type { Repository } from '../../actors/git/repository.js';
import { salvageDirectory } from '../../actors/git/salvage.js';
import {
  ADD_IN_PROGRESS_LOCK,
  REMOVAL_ASIDE_PREFIX,
  removeWorktree,
  type WorktreeEntry,
} from '../../actors/git/worktrees.js';
import { idPattern } from '../../bus/ids.js';
import { BRANCH_PREFIX } from '../lane/labels.js';
import type { LaneRecord } from '../state/lane-records.js';

/**
 * What no lane record accounts for, under the worktree root and the lane branch prefix: git
 * records of deleted worktree directories, checkouts a killed `worktree add` left, directories git
 * does not know, lane branches without a worktree. Only names lanevisor makes are looked at (a
 * directory named by a lane id, a `.removing-…` directory, a `lane/…` branch). Anything that may
 * hold work is salvaged before it is removed; a branch with commits nothing else reaches is kept.
 * Run it under the repository lock: it reads git's records and then changes them.
 */
export interface OrphanPlan {
  /** Registered worktrees whose directory is gone. */
  readonly prune: readonly WorktreeEntry[];
  /** Checkouts a killed `worktree add` left (still locked `initializing`). */
  readonly unfinished: readonly WorktreeEntry[];
  /** Healthy registered worktrees without a record: left alone, reported. */
  readonly kept: readonly WorktreeEntry[];
  /** Directories git does not know. */
  readonly strays: readonly string[];
  /** Lane branches no worktree has checked out and no record names. */
  readonly branches: readonly string[];
  /** With unreadable records around, a branch may be theirs: every orphan branch is kept. */
  readonly keepAllBranches: boolean;
}

export interface OrphanOutcome {
  readonly pruned: number;
  readonly removed: number;
  readonly kept: number;
  readonly branchesRemoved: number;
  readonly branchesKept: number;
  readonly salvagedRefs: readonly string[];
}

const LANE_DIRECTORY = idPattern('lane');

export async function planOrphans(
  repository: Repository,
  worktreeRoot: string,
  worktrees: readonly WorktreeEntry[],
  records: readonly LaneRecord[],
  unreadableRecords: number,
): Promise<OrphanPlan> {
  const recorded = new Set(records.map((record) => record.worktreePath));
  const ours = worktrees.filter(
    (w) => LANE_DIRECTORY.test(basename(w.path)) && isInside(worktreeRoot, w.path) && !recorded.has(w.path),
  );
  const prune = ours.filter((w) => w.prunable !== null);
  const unfinished = ours.filter((w) => w.prunable === null && w.locked === ADD_IN_PROGRESS_LOCK);
  const kept = ours.filter((w) => w.prunable === null && w.locked !== ADD_IN_PROGRESS_LOCK);
  const registered = new Set(worktrees.map((w) => w.path));
  const strays = (await readdir(worktreeRoot, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .filter((entry) => LANE_DIRECTORY.test(entry.name) || entry.name.startsWith(REMOVAL_ASIDE_PREFIX))
    .map((entry) => join(worktreeRoot, entry.name))
    .filter((path) => !registered.has(path) && !recorded.has(path));
  const goingAway = new Set([...prune, ...unfinished]);
  const checkedOut = new Set(worktrees.filter((w) => !goingAway.has(w)).map((w) => w.branch));
  const named = new Set(records.map((record) => `refs/heads/${record.branch}`));
  const branches = (await listBranches(repository, BRANCH_PREFIX)).filter(
    (branch) => !checkedOut.has(`refs/heads/${branch}`) && !named.has(`refs/heads/${branch}`),
  );
  return { prune, unfinished, kept, strays, branches, keepAllBranches: unreadableRecords > 0 };
}

/** Carries the plan out. A directory whose salvage fails is kept (and counted kept), never deleted. */
export async function removeOrphans(
  repository: Repository,
  worktreeRoot: string,
  plan: OrphanPlan,
): Promise<OrphanOutcome> {
  const salvagedRefs: string[] = [];
  let kept = plan.kept.length;
  let removed = 0;
  for (const worktree of [...plan.prune, ...plan.unfinished]) {
    // A killed checkout holds only what git was writing: nothing of anybody's to salvage.
    await removeWorktree(repository, worktreeRoot, worktree.path);
  }
  for (const directory of plan.strays) {
    let ref: string | null;
    try {
      ref = await salvageDirectory(
        repository,
        directory,
        basename(directory),
        `lanevisor: salvage of ${directory}, found without a lane record`,
        null,
      );
    } catch {
      kept++;
      continue;
    }
    if (ref !== null) salvagedRefs.push(ref);
    await rm(directory, { recursive: true, force: true });
    removed += 1;
  }
  const keptBranches = await branchesToKeep(repository, plan);
  for (const branch of plan.branches) if (!keptBranches.has(branch)) await deleteBranch(repository, branch);
  return {
    pruned: plan.prune.length,
    removed: removed + plan.unfinished.length,
    kept,
    branchesRemoved: plan.branches.length - keptBranches.size,
    branchesKept: keptBranches.size,
    salvagedRefs,
  };
}

/** What `removeOrphans` would do, changing nothing (for `reconcile --dry-run`). */
export async function previewOrphans(repository: Repository, plan: OrphanPlan): Promise<OrphanOutcome> {
  const keptBranches = await branchesToKeep(repository, plan);
  return {
    pruned: plan.prune.length,
    removed: plan.unfinished.length + plan.strays.length,
    kept: plan.kept.length,
    branchesRemoved: plan.branches.length - keptBranches.size,
    branchesKept: keptBranches.size,
    salvagedRefs: [],
  };
}

/** The orphan branches that hold commits nothing else reaches (all of them while a record is unreadable). */
async function branchesToKeep(repository: Repository, plan: OrphanPlan): Promise<Set<string>> {
  if (plan.keepAllBranches) return new Set(plan.branches);
  const kept = new Set<string>();
  for (const branch of plan.branches) if ((await commitsOnlyOn(repository, branch)) > 0) kept.add(branch);
  return kept;
}
