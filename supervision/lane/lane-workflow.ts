import { type CommitResult, commitAll } from '../../actors/git/commit.js';
import { conflictMatrix, type LaneConflict } from '../../actors/git/conflicts.js';
import { type LaneDiff, laneDiff } from '../../actors/git/diff.js';
import { git } from '../../actors/git/git.js';
import { MERGE_STRATEGIES, type MergeResult, type MergeStrategy, mergeBranch } from '../../actors/git/merge.js';
import { withRepoLock } from '../../actors/git/repo-lock.js';
import { inRepository, type Repository, resolveCommit } from '../../actors/git/repository.js';
import { LanevisorError } from '../../bus/errors.js';

/**
 * A lane's work on its way back: its diff against its base, a commit of everything in its
 * worktree, a merge into a branch (never a reset, delete or force), and which lanes would
 * conflict. The git work is in actors/git/; this decides what the lane's base and target are.
 */
export interface WorkflowLane {
  readonly id: string;
  readonly branch: string;
  readonly baseRef: string;
  readonly worktreePath: string;
  /** The commit the lane started from. */
  readonly baseSha: string;
}

export interface MergeOptions {
  /** The branch to merge into; default the branch the lane's baseRef names. */
  readonly into?: string;
  readonly strategy?: MergeStrategy;
  readonly message?: string;
}

export async function diffLane(repository: Repository, lane: WorkflowLane, base?: string): Promise<LaneDiff> {
  const against = base === undefined ? lane.baseSha : await resolveCommit(repository, base);
  return laneDiff(repository, lane.worktreePath, against);
}

export function commitLane(repository: Repository, lane: WorkflowLane, message: string): Promise<CommitResult> {
  return commitAll(repository, lane.worktreePath, message);
}

export async function mergeLane(
  repository: Repository,
  lane: WorkflowLane,
  options: MergeOptions = {},
): Promise<MergeResult> {
  if (options.strategy !== undefined && !MERGE_STRATEGIES.includes(options.strategy)) {
    throw new LanevisorError('INVALID_ARGUMENT', `strategy must be one of ${MERGE_STRATEGIES.join(', ')}`);
  }
  const into = options.into ?? (await baseBranchOf(repository, lane));
  return withRepoLock(repository.commonDir, () =>
    mergeBranch(repository, {
      branch: lane.branch,
      into,
      ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
      ...(options.message === undefined ? {} : { message: options.message }),
    }),
  );
}

/**
 * Pairwise between the lanes, and each against where its base branch is now; computed by
 * merge-tree alone, so no worktree is touched while agents work in them.
 */
export async function laneConflicts(repository: Repository, lanes: readonly WorkflowLane[]): Promise<LaneConflict[]> {
  const tips = await Promise.all(
    lanes.map(async (lane) => ({
      id: lane.id,
      head: await resolveCommit(repository, `refs/heads/${lane.branch}`),
      baseTip: await baseTipOf(repository, lane),
    })),
  );
  return conflictMatrix(repository, tips);
}

/** The branch a lane's baseRef names: itself, or the main worktree's branch for HEAD. */
export async function baseBranchOf(repository: Repository, lane: WorkflowLane): Promise<string> {
  const named = await branchNamed(repository, lane.baseRef);
  if (named !== null) return named;
  throw new LanevisorError(
    'INVALID_ARGUMENT',
    `lane ${lane.id} started from ${lane.baseRef}, which is not a branch: say which branch to merge into ({ into })`,
    { details: { baseRef: lane.baseRef } },
  );
}

async function baseTipOf(repository: Repository, lane: WorkflowLane): Promise<string> {
  const branch = await branchNamed(repository, lane.baseRef);
  // A base that is a commit or a tag does not move: the lane is compared with where it started.
  return branch === null ? lane.baseSha : resolveCommit(repository, `refs/heads/${branch}`);
}

async function branchNamed(repository: Repository, ref: string): Promise<string | null> {
  const options = inRepository(repository);
  if (ref === 'HEAD') {
    const head = await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], options);
    return head.exitCode === 0 ? head.stdout.trim() : null;
  }
  const name = ref.replace(/^refs\/heads\//, '');
  if (name.startsWith('-')) return null;
  const found = await git(['show-ref', '--verify', '--quiet', `refs/heads/${name}`], options);
  return found.exitCode === 0 ? name : null;
}
