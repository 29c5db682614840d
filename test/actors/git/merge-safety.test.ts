import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type MergeStrategy, mergeBranch } from '../../../actors/git/merge.js';
import { isLanevisorError } from '../../../bus/errors.js';
import { gitIn } from '../../support/git-repo.js';
import {
  allRefs,
  commitFiles,
  createLaneRepo,
  fileHashes,
  type LaneRepo,
  repoState,
  statusOf,
  worktreeState,
  write,
} from './lane-repo.js';

/**
 * What a merge must never do: change anything when it refuses (a conflict, a dirty checkout, a
 * target that moved), or lose anything when it succeeds. Every check compares the whole state:
 * each ref, and each worktree's HEAD, index bytes and files.
 */
let lanes: LaneRepo | undefined;
const savedPath = process.env.PATH;
afterEach(() => {
  lanes?.temp.dispose();
  lanes = undefined;
  process.env.PATH = savedPath;
});

const STRATEGIES: readonly MergeStrategy[] = ['merge', 'squash', 'rebase'];

/** A lane with two commits (a new file, then an edit of file0 and the deletion of file1), beside a second lane. */
async function setup() {
  lanes = await createLaneRepo();
  const { main } = lanes;
  const lane = lanes.addLane('a');
  const other = lanes.addLane('b');
  commitFiles(lane, 'lane: add', { 'lane-new.txt': 'new\n' });
  commitFiles(lane, 'lane: edit', { 'dir0/file0.txt': 'lane edit\n', 'dir1/file1.txt': null });
  commitFiles(other, 'other lane', { 'other.txt': 'other\n' });
  gitIn(main, 'branch', 'release');
  // Work nobody committed, and files git does not track, that must all survive.
  write(lane, 'dir2/file2.txt', 'uncommitted in the lane\n');
  write(other, 'scratch.txt', 'untracked in the other lane\n');
  write(main, 'notes.txt', 'my untracked notes\n');
  write(main, 'build.log', 'ignored\n');
  return { repository: lanes.repository, main, lane, other, worktrees: [main, lane, other] };
}

/** The target moves on with a change to what the lane edits and deletes: every strategy conflicts. */
function conflictOn(main: string, branch: string): void {
  const change = { 'dir0/file0.txt': 'target edit\n', 'dir1/file1.txt': 'kept\n' };
  if (branch === 'main') {
    commitFiles(main, 'main edits too', change);
    return;
  }
  const scratch = join(lanes?.temp.base as string, `move-${branch}`);
  gitIn(main, 'worktree', 'add', '-q', scratch, branch);
  commitFiles(scratch, `${branch} edits too`, change);
  gitIn(main, 'worktree', 'remove', scratch);
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => expect.unreachable('the merge went through'),
    (e: unknown) => e,
  );
  if (!isLanevisorError(error)) throw error;
  return error;
}

/**
 * A `git` first on PATH that, the first time lanevisor moves a ref, moves `ref` to `to` itself
 * just before: another process winning the race between the merge's reading the target and its
 * compare-and-swap.
 */
function raceOnUpdateRef(repo: string, ref: string, to: string): void {
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const dir = join(lanes?.temp.base as string, 'race-bin');
  mkdirSync(dir);
  const armed = join(dir, 'armed');
  writeFileSync(armed, '');
  writeFileSync(
    join(dir, 'git'),
    `#!/bin/sh
if [ "$1" = update-ref ] && [ -e '${armed}' ]; then
  rm -f '${armed}'
  '${realGit}' -C '${repo}' update-ref '${ref}' '${to}' || exit 99
fi
exec '${realGit}' "$@"
`,
  );
  chmodSync(join(dir, 'git'), 0o755);
  process.env.PATH = `${dir}:${process.env.PATH}`;
}

describe('a merge that is refused changes nothing', () => {
  it.each(STRATEGIES)('CONFLICT (%s): every ref, HEAD, index and file stays as it was', async (strategy) => {
    const { repository, main, worktrees } = await setup();
    conflictOn(main, 'main');
    conflictOn(main, 'release');
    for (const into of ['main', 'release']) {
      const before = repoState(main, worktrees);
      const error = await refusal(mergeBranch(repository, { branch: 'lane/a', into, strategy }));
      expect(error.code).toBe('CONFLICT');
      expect(error.details?.files).toEqual(['dir0/file0.txt', 'dir1/file1.txt']);
      expect(error.message).toContain('dir0/file0.txt');
      expect(error.message).toContain('dir1/file1.txt');
      if (strategy === 'rebase') expect(error.details?.commit).toBe(gitIn(main, 'rev-parse', 'lane/a'));
      expect(repoState(main, worktrees)).toEqual(before);
    }
  });

  it.each(STRATEGIES)('a dirty checkout of the target (%s) is INVALID_STATE naming its files', async (strategy) => {
    const { repository, main, worktrees } = await setup();
    write(main, 'dir7/file7.txt', 'staged\n');
    gitIn(main, 'add', 'dir7/file7.txt');
    write(main, 'dir8/file8.txt', 'unstaged\n');
    rmSync(join(main, 'dir9/file9.txt'));
    const before = repoState(main, worktrees);
    const error = await refusal(mergeBranch(repository, { branch: 'lane/a', into: 'main', strategy }));
    expect(error.code).toBe('INVALID_STATE');
    expect(error.details?.files).toEqual(['dir7/file7.txt', 'dir8/file8.txt', 'dir9/file9.txt']);
    for (const file of ['dir7/file7.txt', 'dir8/file8.txt', 'dir9/file9.txt']) expect(error.message).toContain(file);
    expect(error.message).toContain(main);
    expect(repoState(main, worktrees)).toEqual(before);
  });

  it('an untracked file where the merge puts one is refused, and left as it was', async () => {
    const { repository, main } = await setup();
    write(main, 'lane-new.txt', 'mine, not the lane’s\n');
    const before = { refs: allRefs(main), worktree: worktreeState(main) };
    const error = await refusal(mergeBranch(repository, { branch: 'lane/a', into: 'main' }));
    expect(error.code).toBe('INVALID_STATE');
    expect(error.details?.files).toEqual(['lane-new.txt']);
    expect(allRefs(main)).toEqual(before.refs);
    const after = worktreeState(main);
    // Only the index's stat data may have been refreshed; what it holds is the same.
    expect({ ...after, indexBytes: '' }).toEqual({ ...before.worktree, indexBytes: '' });
  });

  it('a target being rebased, or checked out where the directory is gone, is refused', async () => {
    const { repository, main, worktrees } = await setup();
    const rel = join(lanes?.temp.base as string, 'rel');
    gitIn(main, 'worktree', 'add', '-q', rel, 'release');
    commitFiles(rel, 'release edits', { 'dir5/file5.txt': 'release edit\n' });
    commitFiles(main, 'main edits', { 'dir5/file5.txt': 'main edit\n' });
    expect(() => gitIn(rel, 'rebase', 'main')).toThrow();
    const before = repoState(main, [...worktrees, rel]);
    const error = await refusal(mergeBranch(repository, { branch: 'lane/a', into: 'release' }));
    expect(error).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('being rebased') });
    expect(repoState(main, [...worktrees, rel])).toEqual(before);

    gitIn(rel, 'rebase', '--abort');
    rmSync(rel, { recursive: true, force: true });
    const gone = await refusal(mergeBranch(repository, { branch: 'lane/a', into: 'release' }));
    expect(gone).toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('missing') });
    expect(allRefs(main)).toEqual(before.refs);
  });
});

describe('a merge into a checked-out branch', () => {
  it.each(STRATEGIES)(
    '(%s) moves a clean main worktree with it; untracked and ignored files stay',
    async (strategy) => {
      const { repository, main, lane, other } = await setup();
      const others = [lane, other].map((worktree) => worktreeState(worktree));
      const result = await mergeBranch(repository, { branch: 'lane/a', into: 'main', strategy });
      expect(gitIn(main, 'rev-parse', 'main')).toBe(result.commit);
      expect(gitIn(main, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
      expect(statusOf(main)).toBe('?? notes.txt\n');
      const tracked = gitIn(main, 'ls-files', '--stage').replace(/\t/g, ' ');
      const inCommit = gitIn(main, 'ls-tree', '-r', result.commit).replace(/ blob ([0-9a-f]+)\t/g, ' $1 0 ');
      expect(tracked).toBe(inCommit);
      const files = fileHashes(main);
      expect(files['lane-new.txt']).toBeDefined();
      expect(files['dir1/file1.txt']).toBeUndefined();
      expect(gitIn(main, 'show', 'HEAD:dir0/file0.txt')).toBe('lane edit');
      expect(existsSync(join(main, 'notes.txt')) && existsSync(join(main, 'build.log'))).toBe(true);
      expect([lane, other].map((worktree) => worktreeState(worktree))).toEqual(others);
    },
  );

  it('moves a clean linked worktree holding the target, and refuses a dirty one', async () => {
    const { repository, main } = await setup();
    const rel = join(lanes?.temp.base as string, 'rel');
    gitIn(main, 'worktree', 'add', '-q', rel, 'release');
    write(rel, 'dir3/file3.txt', 'dirty\n');
    const before = repoState(main, [main, rel]);
    const error = await refusal(mergeBranch(repository, { branch: 'lane/a', into: 'release' }));
    expect(error).toMatchObject({ code: 'INVALID_STATE', details: { files: ['dir3/file3.txt'], worktree: rel } });
    expect(repoState(main, [main, rel])).toEqual(before);

    gitIn(rel, 'checkout', '--', 'dir3/file3.txt');
    const result = await mergeBranch(repository, { branch: 'lane/a', into: 'release', strategy: 'squash' });
    expect(gitIn(rel, 'rev-parse', 'HEAD')).toBe(result.commit);
    expect(statusOf(rel)).toBe('');
    expect(existsSync(join(rel, 'lane-new.txt'))).toBe(true);
    // The main worktree, on main, saw none of it.
    expect(worktreeState(main)).toEqual(before.worktrees[0]);
  });
});

describe('compare-and-swap', () => {
  it('a target that moves before the swap is refused; the other writer keeps its commit', async () => {
    const { repository, main, worktrees } = await setup();
    const theirs = gitIn(main, 'commit-tree', '-p', 'release', '-m', 'concurrent', 'release^{tree}');
    const before = repoState(main, worktrees);
    raceOnUpdateRef(main, 'refs/heads/release', theirs);
    const error = await refusal(mergeBranch(repository, { branch: 'lane/a', into: 'release' }));
    expect(error).toMatchObject({ code: 'INVALID_STATE', details: { actual: theirs } });
    expect(error.message).toContain('moved');
    expect(repoState(main, worktrees)).toEqual({ ...before, refs: { ...before.refs, 'refs/heads/release': theirs } });
  });

  it('a checked-out target that moves before the swap is refused, and its files are put back', async () => {
    const { repository, main, worktrees } = await setup();
    const theirs = gitIn(main, 'commit-tree', '-p', 'main', '-m', 'concurrent', 'main^{tree}');
    const before = repoState(main, worktrees);
    raceOnUpdateRef(main, 'refs/heads/main', theirs);
    const error = await refusal(mergeBranch(repository, { branch: 'lane/a', into: 'main', strategy: 'rebase' }));
    expect(error).toMatchObject({ code: 'INVALID_STATE', details: { actual: theirs } });
    const after = repoState(main, worktrees);
    expect(after.refs).toEqual({ ...before.refs, 'refs/heads/main': theirs });
    const [mainBefore, ...lanesBefore] = before.worktrees;
    const [mainAfter, ...lanesAfter] = after.worktrees;
    expect(lanesAfter).toEqual(lanesBefore);
    // The files and what the index holds are as before (the index was rewritten twice: forward and back).
    expect(mainAfter?.files).toEqual(mainBefore?.files);
    expect(mainAfter?.stagedEntries).toEqual(mainBefore?.stagedEntries);
    expect(mainAfter?.head).toBe(theirs);
  });
});
