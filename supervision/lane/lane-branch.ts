import { decideLaneBranch, deleteMarkedBranch, releaseBranch } from '../../actors/git/branch-ownership.js';
import { withRepoLock } from '../../actors/git/repo-lock.js';
import type { Repository } from '../../actors/git/repository.js';
import type { LifecyclePayload } from '../../bus/lifecycle.js';
import type { LaneBranchOutcome, LaneIdentity } from './lane-resources.js';

/**
 * The cleanup's branch step for a lane that created its branch: deleted when lanevisor can prove
 * it made it and nothing of the user's points at it, unless it holds commits beyond its start
 * (kept unless discarding). A kept branch is handed over: its marker goes, so nothing of
 * lanevisor's ever deletes it later. Read outside the lock; deleted by compare-and-swap.
 */
export async function removeLaneBranch(
  repository: Repository,
  identity: LaneIdentity,
  baseSha: string,
  discard: boolean,
  kept: (payload: LifecyclePayload<'lane.branch_kept'>) => void,
): Promise<LaneBranchOutcome> {
  const { branch } = identity;
  const { facts, verdict, commitsBeyondStart } = await decideLaneBranch(repository, branch, baseSha, discard);
  const outcome = await withRepoLock(repository.commonDir, async (): Promise<LaneBranchOutcome> => {
    if (verdict === 'delete' && (await deleteMarkedBranch(repository, facts))) return 'removed';
    // A stale marker of a branch that is gone goes too; a kept branch is handed over.
    if (verdict !== 'not_ours') await releaseBranch(repository, facts);
    return verdict === 'delete' ? 'moved' : verdict;
  });
  if (outcome !== 'removed' && outcome !== 'absent') {
    kept({ laneId: identity.laneId, branch, commits: commitsBeyondStart, reason: outcome });
  }
  return outcome;
}
