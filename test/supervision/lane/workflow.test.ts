import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn } from '../../support/git-repo.js';
import { createRuntimeFixture, type RuntimeFixture } from '../../support/runtime-fixture.js';

let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
});

/** Every ref and what it points at: what a refused merge must leave exactly as it was. */
const refsOf = (repo: string) => gitIn(repo, 'for-each-ref', '--format=%(refname) %(objectname)');

describe('diff, commit, merge and conflicts of lanes', () => {
  it("diffs a lane's work, commits it, and merges it into the branch its base names, through the main worktree", async () => {
    fixture = await createRuntimeFixture({}, 5);
    const repo = fixture.repo.path;
    // The user's own branch under lane/ is not lanevisor's, and survives everything.
    gitIn(repo, 'branch', 'lane/users-own');
    const lane = await fixture.rt.createLane({ label: 'feature' });
    writeFileSync(join(lane.worktreePath, 'dir0', 'file0.txt'), 'changed in the lane\n');
    writeFileSync(join(lane.worktreePath, 'new.txt'), 'untracked\n');

    const diff = await lane.diff();
    expect(diff.base).toBe(gitIn(repo, 'rev-parse', 'main'));
    expect(diff.files.map((file) => [file.path, file.status])).toEqual([
      ['dir0/file0.txt', 'modified'],
      ['new.txt', 'added'],
    ]);
    expect(diff.patch).toContain('+changed in the lane');
    // A diff changes nothing in the worktree.
    expect(gitIn(lane.worktreePath, 'status', '--porcelain')).toBe('M dir0/file0.txt\n?? new.txt');

    const { commit } = await lane.commit('the feature');
    expect(commit).toBe(gitIn(repo, 'rev-parse', 'lane/feature'));
    expect(await lane.commit('nothing new')).toEqual({ commit: null });

    const merged = await lane.merge();
    expect(merged.into).toBe('main');
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(merged.commit);
    // main is checked out in the main worktree, which was clean: its files moved with it.
    expect(readFileSync(join(repo, 'dir0', 'file0.txt'), 'utf8')).toBe('changed in the lane\n');
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
    expect(gitIn(repo, 'rev-parse', '--verify', 'lane/users-own')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a conflicting merge is CONFLICT and changes nothing; rt.conflicts() names the lanes and files', async () => {
    fixture = await createRuntimeFixture({}, 5);
    const repo = fixture.repo.path;
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((label) => (fixture as RuntimeFixture).rt.createLane({ label })),
    );
    if (!a || !b || !c) throw new Error('three lanes');
    writeFileSync(join(a.worktreePath, 'dir1', 'file1.txt'), 'a says\n');
    writeFileSync(join(b.worktreePath, 'dir1', 'file1.txt'), 'b says\n');
    writeFileSync(join(c.worktreePath, 'dir2', 'file2.txt'), 'c alone\n');
    for (const lane of [a, b, c]) await lane.commit(`work of ${lane.label}`);
    // The base moves on too, against c's file.
    writeFileSync(join(repo, 'dir2', 'file2.txt'), 'main moved\n');
    gitIn(repo, 'commit', '-qam', 'main moves');

    const conflicts = await fixture.rt.conflicts();
    expect(conflicts).toEqual([
      { lanes: [a.id, b.id], files: ['dir1/file1.txt'] },
      { lanes: [c.id, 'base'], files: ['dir2/file2.txt'] },
    ]);

    await a.merge({ strategy: 'squash', message: 'a, squashed' });
    const refs = refsOf(repo);
    const status = gitIn(repo, 'status', '--porcelain');
    const index = readFileSync(join(repo, '.git', 'index'));
    await expect(b.merge()).rejects.toMatchObject({ code: 'CONFLICT', details: { files: ['dir1/file1.txt'] } });
    expect(refsOf(repo)).toBe(refs);
    expect(gitIn(repo, 'status', '--porcelain')).toBe(status);
    expect(readFileSync(join(repo, '.git', 'index')).equals(index)).toBe(true);
    expect(readFileSync(join(repo, 'dir1', 'file1.txt'), 'utf8')).toBe('a says\n');
  });

  it('refuses to merge into a checked-out branch with uncommitted work, naming the files', async () => {
    fixture = await createRuntimeFixture({}, 5);
    const repo = fixture.repo.path;
    const lane = await fixture.rt.createLane();
    writeFileSync(join(lane.worktreePath, 'dir3', 'file3.txt'), 'lane\n');
    await lane.commit('lane work');
    writeFileSync(join(repo, 'dir4', 'file4.txt'), 'the user is editing this\n');
    const main = gitIn(repo, 'rev-parse', 'main');
    await expect(lane.merge()).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringContaining('dir4/file4.txt'),
    });
    expect(gitIn(repo, 'rev-parse', 'main')).toBe(main);
    expect(readFileSync(join(repo, 'dir4', 'file4.txt'), 'utf8')).toBe('the user is editing this\n');
    await expect(lane.merge({ into: 'no-such-branch' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(lane.commit('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
