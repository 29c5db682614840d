import { LanevisorError } from '../../bus/errors.js';
import { advanceBranch } from './branch-advance.js';
import { git, gitOrThrow } from './git.js';
import { mergeTrees } from './merge-tree.js';
import { replayCommits } from './replay.js';
import { inRepository, type Repository } from './repository.js';

/**
 * `lane.merge()`: a lane's branch merged into a target branch without a checkout of either. The
 * result is computed in objects only (merge-tree, commit-tree), then the target moves to it by
 * compare-and-swap (see branch-advance.ts: through its worktree when it is checked out, and
 * only when that worktree is clean). A conflict, a dirty checkout or a target that moved is
 * refused before any ref, index or file has changed. The lane's branch itself is never moved.
 *
 * Decisions:
 * - 'merge' always makes a two-parent merge commit, even when the target could fast-forward (as
 *   `git merge --no-ff`): the lane lands as one commit on the target's first-parent history, and
 *   `git revert -m 1` takes it back as a whole.
 * - 'squash' makes one commit on the target tip with the lane's whole change, 'rebase' the lane's
 *   commits replayed one by one on it (see replay.ts: a target the lane already sits on is
 *   fast-forwarded to the lane's own commits).
 * - Nothing to merge is INVALID_STATE, not a quiet success: a branch with no commit the target
 *   lacks (work never committed, or merged already), or whose changes the target already has
 *   (squash, rebase). Saying so tells the caller that its uncommitted work is not in the result.
 * - The result commits are signed when the user signs commits (`commit.gpgSign`). No hook runs:
 *   git runs none for plumbing, and the target's checkout is moved, not merged into.
 *
 * Call it under the repository lock: two merges into one target would otherwise make one of them
 * fail its compare-and-swap (safely, but for nothing).
 */
export type MergeStrategy = 'merge' | 'squash' | 'rebase';
export const MERGE_STRATEGIES: readonly MergeStrategy[] = ['merge', 'squash', 'rebase'];

export interface MergeRequest {
  /** The lane's branch (without `refs/heads/`). */
  readonly branch: string;
  /** The target branch. */
  readonly into: string;
  /** Default 'merge'. */
  readonly strategy?: MergeStrategy;
  /** The commit message for 'merge' and 'squash' ('rebase' keeps each commit's own). */
  readonly message?: string;
}

export interface MergeResult {
  /** Where the target is now. */
  readonly commit: string;
  readonly into: string;
  /** The commits the merge added to the target's history, oldest first. */
  readonly commits: readonly string[];
}

export async function mergeBranch(repository: Repository, request: MergeRequest): Promise<MergeResult> {
  const strategy = request.strategy ?? 'merge';
  validate(request, strategy);
  const { branch, into } = request;
  const [intoTip, branchTip] = await Promise.all([tipOf(repository, into), tipOf(repository, branch)]);
  const ahead = Number(
    (await gitOrThrow(['rev-list', '--count', `${intoTip}..${branchTip}`], inRepository(repository))).trim(),
  );
  if (ahead === 0) throw nothingToMerge(branch, into, `${branch} has no commit that ${into} does not have`);
  const commitArgs = (await signsCommits(repository)) ? ['-S'] : [];
  const sides = { intoTip, branchTip, commitArgs };
  const result =
    strategy === 'rebase'
      ? await replayCommits(repository, { onto: intoTip, branchTip, branch, into, commitArgs })
      : await mergeCommit(repository, request, strategy, sides);
  if (result.head === intoTip) throw nothingToMerge(branch, into, `${into} already has every change of ${branch}`);
  await advanceBranch(repository, {
    branch: into,
    from: intoTip,
    to: result.head,
    reason: `lanevisor merge (${strategy}): ${branch} into ${into}`,
  });
  return { commit: result.head, into, commits: result.commits };
}

/** The one commit of a 'merge' (two parents) or a 'squash' (the target tip its only parent). */
async function mergeCommit(
  repository: Repository,
  request: MergeRequest,
  strategy: 'merge' | 'squash',
  sides: { readonly intoTip: string; readonly branchTip: string; readonly commitArgs: readonly string[] },
): Promise<{ head: string; commits: readonly string[] }> {
  const { branch, into } = request;
  const { intoTip, branchTip } = sides;
  const merge = await mergeTrees(repository, intoTip, branchTip);
  if (!merge.clean) {
    throw new LanevisorError(
      'CONFLICT',
      `merging ${branch} into ${into} conflicts in ${merge.conflicts.join(', ') || 'the tree (see details.messages)'}; nothing was changed`,
      { details: { files: merge.conflicts, branch, into, messages: merge.messages } },
    );
  }
  if (strategy === 'squash') {
    const intoTree = await gitOrThrow(['rev-parse', '--verify', `${intoTip}^{tree}`], inRepository(repository));
    // An empty squash commit would say something landed when nothing did: the caller hears "nothing to merge".
    if (merge.tree === intoTree.trim()) return { head: intoTip, commits: [] };
  }
  const parents = strategy === 'merge' ? ['-p', intoTip, '-p', branchTip] : ['-p', intoTip];
  const message = request.message ?? (await defaultMessage(repository, strategy, branch, into, intoTip, branchTip));
  const head = await gitOrThrow(['commit-tree', ...sides.commitArgs, merge.tree, ...parents, '-F', '-'], {
    ...inRepository(repository),
    input: message.endsWith('\n') ? message : `${message}\n`,
  });
  return { head: head.trim(), commits: [head.trim()] };
}

function validate(request: MergeRequest, strategy: MergeStrategy): void {
  for (const [field, name] of [
    ['branch', request.branch],
    ['into', request.into],
  ] as const) {
    if (typeof name !== 'string' || name === '' || name.startsWith('-') || name.startsWith('refs/')) {
      throw new LanevisorError('INVALID_ARGUMENT', `${field} must be a branch name, got ${JSON.stringify(name)}`, {
        details: { field },
      });
    }
  }
  if (request.branch === request.into) {
    throw new LanevisorError('INVALID_ARGUMENT', `cannot merge ${request.branch} into itself`);
  }
  if (!MERGE_STRATEGIES.includes(strategy)) {
    throw new LanevisorError('INVALID_ARGUMENT', `strategy must be one of ${MERGE_STRATEGIES.join(', ')}`, {
      details: { field: 'strategy' },
    });
  }
  if (request.message === undefined) return;
  if (strategy === 'rebase') {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      "a rebase keeps each commit's message; message applies to merge and squash",
      {
        details: { field: 'message' },
      },
    );
  }
  if (typeof request.message !== 'string' || request.message.trim() === '') {
    throw new LanevisorError('INVALID_ARGUMENT', 'message must not be empty', { details: { field: 'message' } });
  }
}

/** The branch's commit; NOT_FOUND when there is no such branch (INVALID_ARGUMENT when it cannot be one). */
async function tipOf(repository: Repository, branch: string): Promise<string> {
  const ref = `refs/heads/${branch}`;
  const result = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], inRepository(repository));
  if (result.exitCode === 0) return result.stdout.trim();
  const valid = await git(['check-ref-format', ref], inRepository(repository));
  if (valid.exitCode !== 0)
    throw new LanevisorError('INVALID_ARGUMENT', `not a valid branch name: ${JSON.stringify(branch)}`);
  throw new LanevisorError('NOT_FOUND', `no branch ${branch} in ${repository.topLevel}`, { details: { branch } });
}

function nothingToMerge(branch: string, into: string, why: string): LanevisorError {
  return new LanevisorError('INVALID_STATE', `nothing to merge: ${why}`, { details: { branch, into } });
}

async function signsCommits(repository: Repository): Promise<boolean> {
  const result = await git(['config', '--bool', '--get', 'commit.gpgSign'], inRepository(repository));
  return result.exitCode === 0 && result.stdout.trim() === 'true';
}

/** git's own merge message; a squash of one commit takes its message, of several lists their subjects. */
async function defaultMessage(
  repository: Repository,
  strategy: 'merge' | 'squash',
  branch: string,
  into: string,
  intoTip: string,
  branchTip: string,
): Promise<string> {
  if (strategy === 'merge') return `Merge branch '${branch}' into ${into}\n`;
  const range = ['--no-merges', '--reverse', `${intoTip}..${branchTip}`];
  const log = await gitOrThrow(['log', '--format=%s', ...range], inRepository(repository));
  const subjects = log.split('\n').filter((subject) => subject !== '');
  if (subjects.length === 1) return gitOrThrow(['log', '-1', '--format=%B', ...range], inRepository(repository));
  return `Squash branch '${branch}' into ${into}\n\n${subjects.map((subject) => `* ${subject}`).join('\n')}\n`;
}
