import { afterEach, describe, expect, it } from 'vitest';
import { mergeBranch } from '../../../actors/git/merge.js';
import { gitIn } from '../../support/git-repo.js';
import { allRefs, commitFiles, createLaneRepo, fileHashes, type LaneRepo, statusOf, write } from './lane-repo.js';

let lanes: LaneRepo | undefined;
afterEach(() => {
  lanes?.temp.dispose();
  lanes = undefined;
});

/**
 * A lane with two commits by another author, a target branch `release` (checked out nowhere) that
 * moved on with a change of its own, and refs of the user's that every merge must leave alone.
 */
async function laneAndTarget() {
  lanes = await createLaneRepo();
  const { main } = lanes;
  const lane = lanes.addLane('a');
  const author = ['-c', 'user.name=Agent One', '-c', 'user.email=agent@example.invalid'];
  write(lane, 'dir0/file0.txt', 'lane one\n');
  gitIn(lane, 'add', '-A');
  gitIn(lane, ...author, 'commit', '-q', '-m', 'lane: first\n\nwith a body\n\n# and a hash line');
  write(lane, 'lane-new.txt', 'lane two\n');
  gitIn(lane, 'add', '-A');
  gitIn(lane, ...author, 'commit', '-q', '--date=2001-02-03T04:05:06+0700', '-m', 'lane: second');
  gitIn(main, 'branch', 'release');
  gitIn(main, 'branch', 'feature/mine');
  gitIn(main, 'tag', 'v1');
  gitIn(main, 'update-ref', 'refs/lanevisor/salvage/old', 'HEAD');
  gitIn(main, 'update-ref', 'refs/notes/mine', 'HEAD');
  const scratch = lanes.addLane('scratch', 'release');
  const releaseMoved = commitFiles(scratch, 'release moves', { 'dir5/file5.txt': 'release change\n' });
  gitIn(main, 'worktree', 'remove', scratch);
  gitIn(main, 'update-ref', 'refs/heads/release', releaseMoved);
  return {
    repository: lanes.repository,
    main,
    lane,
    laneTip: gitIn(lane, 'rev-parse', 'HEAD'),
    base: gitIn(main, 'rev-parse', 'main'),
    releaseMoved,
  };
}

/** Every ref as it was, except the target's. */
function expectOnlyTargetMoved(before: Record<string, string>, repo: string, target: string) {
  const after = allRefs(repo);
  expect(after[target]).not.toBe(before[target]);
  expect({ ...after, [target]: 'x' }).toEqual({ ...before, [target]: 'x' });
}

const treeFiles = (repo: string, commit: string) => gitIn(repo, 'ls-tree', '-r', commit);
const parentsOf = (repo: string, commit: string) => gitIn(repo, 'log', '-1', '--format=%P', commit).split(' ');
const authorOf = (repo: string, commit: string) => gitIn(repo, 'log', '-1', '--format=%an <%ae> %ad%n%B', commit);

describe('mergeBranch', () => {
  it("'merge': a two-parent commit with both sides' changes; the target moves, nothing else does", async () => {
    const { repository, main, laneTip, releaseMoved } = await laneAndTarget();
    const before = allRefs(main);
    const result = await mergeBranch(repository, { branch: 'lane/a', into: 'release' });
    expect(result).toEqual({ commit: gitIn(main, 'rev-parse', 'release'), into: 'release', commits: [result.commit] });
    expect(parentsOf(main, result.commit)).toEqual([releaseMoved, laneTip]);
    expect(gitIn(main, 'log', '-1', '--format=%B', result.commit)).toBe("Merge branch 'lane/a' into release");
    expect(gitIn(main, 'show', `${result.commit}:dir0/file0.txt`)).toBe('lane one');
    expect(gitIn(main, 'show', `${result.commit}:lane-new.txt`)).toBe('lane two');
    expect(gitIn(main, 'show', `${result.commit}:dir5/file5.txt`)).toBe('release change');
    expectOnlyTargetMoved(before, main, 'refs/heads/release');
  });

  it("'merge' makes a merge commit even when the target could fast-forward", async () => {
    const { repository, main, laneTip, base } = await laneAndTarget();
    const result = await mergeBranch(repository, { branch: 'lane/a', into: 'feature/mine', message: 'land it' });
    expect(parentsOf(main, result.commit)).toEqual([base, laneTip]);
    expect(gitIn(main, 'rev-parse', `${result.commit}^{tree}`)).toBe(gitIn(main, 'rev-parse', `${laneTip}^{tree}`));
    expect(gitIn(main, 'log', '-1', '--format=%B', result.commit)).toBe('land it');
  });

  it("'squash': one commit on the target tip with the lane's whole change", async () => {
    const { repository, main, laneTip, releaseMoved } = await laneAndTarget();
    const before = allRefs(main);
    const result = await mergeBranch(repository, { branch: 'lane/a', into: 'release', strategy: 'squash' });
    expect(parentsOf(main, result.commit)).toEqual([releaseMoved]);
    expect(gitIn(main, 'log', '-1', '--format=%B', result.commit)).toBe(
      "Squash branch 'lane/a' into release\n\n* lane: first\n* lane: second",
    );
    // The tree a real merge into the same tip gives, in a single-parent commit.
    gitIn(main, 'branch', 'release-copy', releaseMoved);
    const merged = await mergeBranch(repository, { branch: 'lane/a', into: 'release-copy', strategy: 'merge' });
    expect(treeFiles(main, result.commit)).toBe(treeFiles(main, merged.commit));
    expect(gitIn(main, 'diff', '--name-only', releaseMoved, result.commit).split('\n')).toEqual([
      'dir0/file0.txt',
      'lane-new.txt',
    ]);
    expect(gitIn(main, 'rev-parse', 'lane/a')).toBe(laneTip);
    expectOnlyTargetMoved({ ...before, 'refs/heads/release-copy': merged.commit }, main, 'refs/heads/release');
  });

  it("'squash' of a single commit keeps its message; a given message wins", async () => {
    lanes = await createLaneRepo();
    const lane = lanes.addLane('a');
    commitFiles(lane, 'only commit\n\nits body', { 'x.txt': 'x\n' });
    gitIn(lanes.main, 'branch', 'one');
    gitIn(lanes.main, 'branch', 'two');
    const one = await mergeBranch(lanes.repository, { branch: 'lane/a', into: 'one', strategy: 'squash' });
    expect(gitIn(lanes.main, 'log', '-1', '--format=%B', one.commit)).toBe('only commit\n\nits body');
    const two = await mergeBranch(lanes.repository, {
      branch: 'lane/a',
      into: 'two',
      strategy: 'squash',
      message: 'mine',
    });
    expect(gitIn(lanes.main, 'log', '-1', '--format=%B', two.commit)).toBe('mine');
  });

  it("'rebase': the lane's commits replayed linearly on the target, authors, dates and messages kept", async () => {
    const { repository, main, lane, laneTip, releaseMoved } = await laneAndTarget();
    const before = allRefs(main);
    const laneCommits = gitIn(main, 'rev-list', '--reverse', `main..${laneTip}`).split('\n');
    const result = await mergeBranch(repository, { branch: 'lane/a', into: 'release', strategy: 'rebase' });
    expect(result.commits).toHaveLength(2);
    expect(result.commit).toBe(result.commits[1]);
    const [first, second] = result.commits as [string, string];
    expect(parentsOf(main, first)).toEqual([releaseMoved]);
    expect(parentsOf(main, second)).toEqual([first]);
    expect(authorOf(main, first)).toBe(authorOf(main, laneCommits[0] as string));
    expect(authorOf(main, second)).toBe(authorOf(main, laneCommits[1] as string));
    expect(authorOf(main, second)).toContain('Agent One <agent@example.invalid> Sat Feb 3 04:05:06 2001 +0700');
    expect(gitIn(main, 'log', '-1', '--format=%cn', second)).toBe('Test');
    expect(gitIn(main, 'show', `${result.commit}:dir5/file5.txt`)).toBe('release change');
    expect(gitIn(main, 'show', `${result.commit}:lane-new.txt`)).toBe('lane two');
    expect(() => gitIn(main, 'cat-file', '-e', `${first}:lane-new.txt`)).toThrow();
    // The lane keeps its own commits; its worktree is untouched.
    expect(gitIn(lane, 'rev-parse', 'HEAD')).toBe(laneTip);
    expect(statusOf(lane)).toBe('');
    expectOnlyTargetMoved(before, main, 'refs/heads/release');
  });

  it("'rebase' onto a target the lane already sits on fast-forwards to the lane's own commits", async () => {
    const { repository, main, laneTip } = await laneAndTarget();
    const result = await mergeBranch(repository, { branch: 'lane/a', into: 'feature/mine', strategy: 'rebase' });
    expect(result.commit).toBe(laneTip);
    expect(result.commits).toEqual(gitIn(main, 'rev-list', '--reverse', `main..${laneTip}`).split('\n'));
    expect(gitIn(main, 'rev-parse', 'feature/mine')).toBe(laneTip);
  });

  it("'rebase' drops commits whose change the target already has", async () => {
    lanes = await createLaneRepo();
    const lane = lanes.addLane('a');
    const same = { 'dir0/file0.txt': 'shared change\n' };
    commitFiles(lane, 'shared', same);
    commitFiles(lane, 'own', { 'own.txt': 'own\n' });
    const mainTip = commitFiles(lanes.main, 'the same change, landed another way', same);
    const result = await mergeBranch(lanes.repository, { branch: 'lane/a', into: 'main', strategy: 'rebase' });
    expect(result.commits).toHaveLength(1);
    expect(parentsOf(lanes.main, result.commit)).toEqual([mainTip]);
    expect(gitIn(lanes.main, 'log', '-1', '--format=%s', result.commit)).toBe('own');
  });

  it('refuses what it cannot merge, changing nothing', async () => {
    const { repository, main } = await laneAndTarget();
    const before = allRefs(main);
    const files = fileHashes(main);
    const refusals: Array<[Parameters<typeof mergeBranch>[1], string]> = [
      [{ branch: 'lane/a', into: 'nope' }, 'NOT_FOUND'],
      [{ branch: 'lane/nope', into: 'release' }, 'NOT_FOUND'],
      [{ branch: 'lane/a', into: 'bad..name' }, 'INVALID_ARGUMENT'],
      [{ branch: 'lane/a', into: '-x' }, 'INVALID_ARGUMENT'],
      [{ branch: 'lane/a', into: 'refs/heads/main' }, 'INVALID_ARGUMENT'],
      [{ branch: 'lane/a', into: 'lane/a' }, 'INVALID_ARGUMENT'],
      [{ branch: 'lane/a', into: 'release', strategy: 'octopus' as 'merge' }, 'INVALID_ARGUMENT'],
      [{ branch: 'lane/a', into: 'release', strategy: 'rebase', message: 'm' }, 'INVALID_ARGUMENT'],
      [{ branch: 'lane/a', into: 'release', message: ' ' }, 'INVALID_ARGUMENT'],
      // Nothing to merge: main has every commit of feature/mine (the same commit).
      [{ branch: 'feature/mine', into: 'main' }, 'INVALID_STATE'],
      [{ branch: 'main', into: 'release' }, 'INVALID_STATE'],
    ];
    for (const [request, code] of refusals) {
      await expect(mergeBranch(repository, request), JSON.stringify(request)).rejects.toMatchObject({ code });
    }
    expect(allRefs(main)).toEqual(before);
    expect(fileHashes(main)).toEqual(files);
  });

  it('says so when a squash would change nothing', async () => {
    lanes = await createLaneRepo();
    const lane = lanes.addLane('a');
    const same = { 'dir0/file0.txt': 'shared change\n' };
    commitFiles(lane, 'shared', same);
    commitFiles(lanes.main, 'landed another way', same);
    const before = allRefs(lanes.main);
    for (const strategy of ['squash', 'rebase'] as const) {
      await expect(mergeBranch(lanes.repository, { branch: 'lane/a', into: 'main', strategy })).rejects.toMatchObject({
        code: 'INVALID_STATE',
        message: expect.stringContaining('already has every change'),
      });
    }
    expect(allRefs(lanes.main)).toEqual(before);
  });

  it('signs its commits when the user signs commits, and a failed signature changes nothing', async () => {
    const { repository, main } = await laneAndTarget();
    gitIn(main, 'config', 'commit.gpgSign', 'true');
    gitIn(main, 'config', 'gpg.program', 'false');
    const before = allRefs(main);
    for (const strategy of ['merge', 'squash', 'rebase'] as const) {
      await expect(mergeBranch(repository, { branch: 'lane/a', into: 'release', strategy })).rejects.toMatchObject({
        code: 'GIT_ERROR',
      });
    }
    expect(allRefs(main)).toEqual(before);
  });
});
