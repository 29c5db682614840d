import { resolveRepository } from '../../actors/git/repository.js';
import { hasUncommittedWork } from '../../actors/git/salvage.js';
import { isKnownWorktree } from '../../actors/git/worktrees.js';
import { LaneRecordStore } from '../state/lane-records.js';
import { stateDirOf } from './runtime-setup.js';

/** A lane as its record in the state directory describes it (`lanevisor ls`). */
export interface LaneListing {
  readonly id: string;
  readonly label: string | null;
  /** The recorded phase: `provisioning`, `ready` (or in use by a live runtime) or `cleaning`. */
  readonly state: 'provisioning' | 'ready' | 'cleaning';
  readonly branch: string;
  readonly worktreePath: string;
  /** Uncommitted or untracked work in the worktree (false when it is missing). */
  readonly dirty: boolean;
  /** The worktree git knew is not there (or git no longer knows it): a reconcile cleans the lane. */
  readonly missing: boolean;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly agents: readonly string[];
}

/**
 * The lanes recorded in a repository's state directory, oldest first. Reads only (no lock, no
 * reconciliation), so it also works while a runtime holds the repository.
 */
export async function listLanes(options: {
  readonly repo: string;
  readonly stateDir?: string;
}): Promise<LaneListing[]> {
  const repository = await resolveRepository(options.repo);
  const store = new LaneRecordStore(stateDirOf(repository, options.stateDir));
  const { records } = await store.list();
  const listings = await Promise.all(
    records.map(async (record) => {
      const missing = !isKnownWorktree(record.worktreePath);
      return {
        id: record.laneId,
        label: record.label,
        state: record.phase,
        branch: record.branch,
        worktreePath: record.worktreePath,
        dirty: missing ? false : await hasUncommittedWork(record.worktreePath).catch(() => false),
        missing,
        createdAt: record.createdAt,
        agents: [...record.agents],
      };
    }),
  );
  return listings.sort((a, b) => a.createdAt - b.createdAt);
}
