import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type BranchFacts,
  type BranchKeptReason,
  deleteMarkedBranch,
  judgeOwnership,
  readBranchFacts,
  releaseBranch,
  removeStaleMarkers,
} from '../../actors/git/branch-ownership.js';
import { commitsOnlyOn } from '../../actors/git/branches.js';
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
 * does not know, lane branches no record names. Only what lanevisor makes is looked at (a
 * directory named by a lane id, a `.removing-…` directory, a branch carrying lanevisor's marker;
 * a `lane/…` branch without one is the user's and is neither counted nor touched). Anything that
 * may hold work is salvaged before it is removed; a branch with commits nothing else reaches, or
 * with anything of the user's pointing at it, is kept. The plan decides everything, so a dry run
 * and the run that follows report the same. Run it under the repository lock: it reads git's
 * records and then changes them.
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
  /** Branches lanevisor made that no record names, to delete. */
  readonly branches: readonly BranchFacts[];
  /** The same, kept, and why (with unreadable records around, every one: it may be theirs). */
  readonly keptBranches: ReadonlyArray<{ readonly facts: BranchFacts; readonly reason: BranchKeptReason }>;
  /** Markers whose branch is gone. */
  readonly staleMarkers: ReadonlyArray<{ readonly branch: string; readonly sha: string }>;
}

export interface OrphanOutcome {
  readonly pruned: number;
  readonly removed: number;
  readonly kept: number;
  readonly branchesRemoved: readonly string[];
  readonly branchesKept: ReadonlyArray<{ readonly branch: string; readonly reason: BranchKeptReason }>;
  readonly salvagedRefs: readonly string[];
}

const LANE_DIRECTORY = idPattern('lane');

/** `listed`: git's worktree list, taken under the same lock; the branches are read while it is. */
export async function planOrphans(
  repository: Repository,
  worktreeRoot: string,
  listed: Promise<readonly WorktreeEntry[]>,
  records: readonly LaneRecord[],
  unreadableRecords: number,
  branchPrefixes: readonly string[] = [BRANCH_PREFIX],
): Promise<OrphanPlan> {
  const recorded = new Set(records.map((record) => record.worktreePath));
  const ownWorktrees = listed.then((worktrees) =>
    classifyOwn(
      worktrees.filter(
        (w) => LANE_DIRECTORY.test(basename(w.path)) && isInside(worktreeRoot, w.path) && !recorded.has(w.path),
      ),
    ),
  );
  // A worktree about to be pruned or removed does not keep its branch checked out.
  const goingAway = ownWorktrees.then(({ prune, unfinished }) => new Set([...prune, ...unfinished].map((w) => w.path)));
  const reading = Promise.all(branchPrefixes.map((prefix) => readBranchFacts(repository, prefix, goingAway)));
  // Waited for below; a failed list fails the plan there, not as an unhandled rejection here.
  for (const pending of [goingAway, reading]) pending.catch(() => undefined);
  const worktrees = await listed;
  const { prune, unfinished, kept } = await ownWorktrees;
  const registered = new Set(worktrees.map((w) => w.path));
  const strays = (await readdir(worktreeRoot, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .filter((entry) => LANE_DIRECTORY.test(entry.name) || entry.name.startsWith(REMOVAL_ASIDE_PREFIX))
    .map((entry) => join(worktreeRoot, entry.name))
    .filter((path) => !registered.has(path) && !recorded.has(path));
  const named = new Set(records.map((record) => record.branch));
  const read = await reading;
  const facts = {
    branches: read.flatMap((one) => one.branches),
    staleMarkers: read.flatMap((one) => one.staleMarkers),
  };
  const branches: BranchFacts[] = [];
  const keptBranches: Array<{ facts: BranchFacts; reason: BranchKeptReason }> = [];
  for (const branch of facts.branches) {
    if (branch.marker === null || named.has(branch.branch)) continue;
    const reason =
      unreadableRecords > 0 ? 'unreadable_record' : ((await judgeOwnership(repository, branch)).kept ?? undefined);
    if (reason !== undefined) keptBranches.push({ facts: branch, reason });
    else if ((await commitsOnlyOn(repository, branch.branch)) > 0)
      keptBranches.push({ facts: branch, reason: 'commits' });
    else branches.push(branch);
  }
  return { prune, unfinished, kept, strays, branches, keptBranches, staleMarkers: facts.staleMarkers };
}

/** Lanevisor's unrecorded worktrees: git says prunable, a `worktree add` never finished, or kept. */
function classifyOwn(ours: readonly WorktreeEntry[]): Pick<OrphanPlan, 'prune' | 'unfinished' | 'kept'> {
  return {
    prune: ours.filter((w) => w.prunable !== null),
    unfinished: ours.filter((w) => w.prunable === null && w.locked === ADD_IN_PROGRESS_LOCK),
    kept: ours.filter((w) => w.prunable === null && w.locked !== ADD_IN_PROGRESS_LOCK),
  };
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
  const branchesRemoved: string[] = [];
  const branchesKept = plan.keptBranches.map(({ facts, reason }) => ({ branch: facts.branch, reason }));
  for (const facts of plan.branches) {
    if (await deleteMarkedBranch(repository, facts)) branchesRemoved.push(facts.branch);
    else branchesKept.push({ branch: facts.branch, reason: 'moved' });
  }
  // Kept for good: handed over to the user (unless a record that could not be read may claim it).
  for (const { facts, reason } of plan.keptBranches)
    if (reason !== 'unreadable_record') await releaseBranch(repository, facts);
  await removeStaleMarkers(repository, plan.staleMarkers);
  return {
    pruned: plan.prune.length,
    removed: removed + plan.unfinished.length,
    kept,
    branchesRemoved,
    branchesKept,
    salvagedRefs,
  };
}

/** What `removeOrphans` would do, changing nothing (for `reconcile --dry-run`). */
export function previewOrphans(plan: OrphanPlan): OrphanOutcome {
  return {
    pruned: plan.prune.length,
    removed: plan.unfinished.length + plan.strays.length,
    kept: plan.kept.length,
    branchesRemoved: plan.branches.map((facts) => facts.branch),
    branchesKept: plan.keptBranches.map(({ facts, reason }) => ({ branch: facts.branch, reason })),
    salvagedRefs: [],
  };
}
