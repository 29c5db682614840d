import { afterEach, describe, expect, it } from 'vitest';
import { conflictingFiles, conflictMatrix, type LaneTips } from '../../../actors/git/conflicts.js';
import { mergeTrees, mergeTreesBatch } from '../../../actors/git/merge-tree.js';
import { gitIn } from '../../support/git-repo.js';
import { commitFiles, createLaneRepo, type LaneRepo, repoState, write } from './lane-repo.js';

let lanes: LaneRepo | undefined;
afterEach(() => {
  lanes?.temp.dispose();
  lanes = undefined;
});

/**
 * Five lanes from one base: a and b change the same line of file0 differently, c changes file1
 * (which the base branch then changes too), d deletes file2 which a modifies, e touches a file of
 * its own. Every lane also has uncommitted work, which a conflict check must not look at or touch.
 */
async function fiveLanes() {
  lanes = await createLaneRepo();
  const { main } = lanes;
  const ids = ['a', 'b', 'c', 'd', 'e'] as const;
  const paths = Object.fromEntries(ids.map((id) => [id, lanes?.addLane(id) as string])) as Record<
    (typeof ids)[number],
    string
  >;
  commitFiles(paths.a, 'a', { 'dir0/file0.txt': 'from a\n', 'dir2/file2.txt': 'a edits file2\n' });
  commitFiles(paths.b, 'b', { 'dir0/file0.txt': 'from b\n', 'b-only.txt': 'b\n' });
  commitFiles(paths.c, 'c', { 'dir1/file1.txt': 'from c\n' });
  commitFiles(paths.d, 'd', { 'dir2/file2.txt': null });
  commitFiles(paths.e, 'e', { 'e-only.txt': 'e\n' });
  commitFiles(main, 'base moves', { 'dir1/file1.txt': 'from the base\n', 'dir5/file5.txt': 'base only\n' });
  for (const id of ids) write(paths[id], 'dir0/file0.txt', `uncommitted in ${id}\n`);
  const baseTip = gitIn(main, 'rev-parse', 'HEAD');
  const tips: LaneTips[] = ids.map((id) => ({ id, head: gitIn(paths[id], 'rev-parse', 'HEAD'), baseTip }));
  return { repository: lanes.repository, tips, worktrees: [main, ...ids.map((id) => paths[id])] };
}

describe('conflictingFiles', () => {
  it('names the files two commits conflict in, content and modify/delete alike, and [] for a clean pair', async () => {
    const { repository, tips } = await fiveLanes();
    const [a, b, c, d, e] = tips as [LaneTips, LaneTips, LaneTips, LaneTips, LaneTips];
    expect(await conflictingFiles(repository, a.head, b.head)).toEqual(['dir0/file0.txt']);
    expect(await conflictingFiles(repository, b.head, a.head)).toEqual(['dir0/file0.txt']);
    expect(await conflictingFiles(repository, a.head, d.head)).toEqual(['dir2/file2.txt']);
    expect(await conflictingFiles(repository, c.baseTip, c.head)).toEqual(['dir1/file1.txt']);
    expect(await conflictingFiles(repository, a.head, e.head)).toEqual([]);
    expect(await conflictingFiles(repository, a.head, a.head)).toEqual([]);
    await expect(conflictingFiles(repository, a.head, 'f'.repeat(40))).rejects.toMatchObject({ code: 'GIT_ERROR' });
  });
});

describe('conflictMatrix', () => {
  it('lists every conflicting pair and every lane that conflicts with its base, and changes nothing', async () => {
    const { repository, tips, worktrees } = await fiveLanes();
    const before = repoState(repository.topLevel, worktrees);

    const matrix = await conflictMatrix(repository, tips);

    expect(matrix).toEqual([
      { lanes: ['a', 'b'], files: ['dir0/file0.txt'] },
      { lanes: ['a', 'd'], files: ['dir2/file2.txt'] },
      { lanes: ['c', 'base'], files: ['dir1/file1.txt'] },
    ]);
    expect(repoState(repository.topLevel, worktrees)).toEqual(before);
  });

  it('agrees with one merge-tree per pair, in one git process', async () => {
    const { repository, tips } = await fiveLanes();
    const pairs = tips.flatMap((x) => tips.map((y) => ({ ours: x.head, theirs: y.head })));
    pairs.push(...tips.map((lane) => ({ ours: lane.baseTip, theirs: lane.head })));
    const batch = await mergeTreesBatch(repository, pairs);
    const single = await Promise.all(pairs.map((pair) => mergeTrees(repository, pair.ours, pair.theirs)));
    expect(batch).toEqual(single);
    expect(batch.filter((merge) => !merge.clean)).toHaveLength(2 * 2 + 1);
    for (const merge of batch.filter((m) => !m.clean)) expect(merge.messages[0]).toMatch(/^CONFLICT \(/);
  });

  it('is empty for lanes that have not moved, and for none', async () => {
    lanes = await createLaneRepo();
    const head = gitIn(lanes.main, 'rev-parse', 'HEAD');
    const tips = ['x', 'y', 'z'].map((id) => ({ id, head, baseTip: head }));
    expect(await conflictMatrix(lanes.repository, tips)).toEqual([]);
    expect(await conflictMatrix(lanes.repository, [])).toEqual([]);
    await expect(conflictMatrix(lanes.repository, [{ id: 'x', head: 'main', baseTip: head }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
