import { type MergePair, mergeTrees, mergeTreesBatch } from './merge-tree.js';
import type { Repository } from './repository.js';

/**
 * Which lanes would conflict if merged: each pair of lanes, and each lane against the tip of the
 * branch it came from. Only merges computed by `git merge-tree`: no worktree, index or ref is read
 * for writing or changed, so it can run while agents work in every lane.
 */
export interface LaneTips {
  readonly id: string;
  /** The commit the lane's branch is at. */
  readonly head: string;
  /** Where the lane's base branch is now (it may have moved since the lane was made). */
  readonly baseTip: string;
}

export interface LaneConflict {
  /** Two lanes, or a lane and its base branch. */
  readonly lanes: readonly [string, string] | readonly [string, 'base'];
  readonly files: readonly string[];
}

/** The files that conflict when `b` is merged into `a` (empty when they merge cleanly). */
export async function conflictingFiles(repository: Repository, a: string, b: string): Promise<string[]> {
  if (a === b) return [];
  const merge = await mergeTrees(repository, a, b);
  return [...merge.conflicts];
}

/**
 * Every pair of lanes (in the order given) and then every lane against its base tip, keeping only
 * the entries with conflicting files. All the merges go to one git process: with 20 lanes there
 * are 210 of them, and a process each would cost more than the merges.
 */
export async function conflictMatrix(repository: Repository, lanes: readonly LaneTips[]): Promise<LaneConflict[]> {
  const checks: Array<{ lanes: LaneConflict['lanes']; pair: MergePair }> = [];
  for (let i = 0; i < lanes.length; i++) {
    for (let j = i + 1; j < lanes.length; j++) {
      const a = lanes[i] as LaneTips;
      const b = lanes[j] as LaneTips;
      // The same commit (two lanes not yet started) merges with itself without a conflict.
      if (a.head !== b.head) checks.push({ lanes: [a.id, b.id], pair: { ours: a.head, theirs: b.head } });
    }
  }
  for (const lane of lanes) {
    if (lane.head !== lane.baseTip)
      checks.push({ lanes: [lane.id, 'base'], pair: { ours: lane.baseTip, theirs: lane.head } });
  }
  const merges = await mergeTreesBatch(
    repository,
    checks.map((check) => check.pair),
  );
  const conflicts: LaneConflict[] = [];
  merges.forEach((merge, index) => {
    const check = checks[index];
    if (check !== undefined && merge.conflicts.length > 0)
      conflicts.push({ lanes: check.lanes, files: merge.conflicts });
  });
  return conflicts;
}
