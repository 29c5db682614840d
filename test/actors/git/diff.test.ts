import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitAll } from '../../../actors/git/commit.js';
import { DIFF_SCRATCH_PREFIX, laneDiff, parseSummary } from '../../../actors/git/diff.js';
import { gitIn } from '../../support/git-repo.js';
import { commitFiles, createLaneRepo, fileHashes, type LaneRepo, statusOf, worktreeState, write } from './lane-repo.js';

let lanes: LaneRepo | undefined;
afterEach(() => {
  lanes?.temp.dispose();
  lanes = undefined;
});

/** Bytes no text diff would show as such: a NUL among them makes git call the file binary. */
const BINARY = Buffer.from([0x00, 0xff, 0x10, 0x00, 0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]);

describe('laneDiff', () => {
  it('shows committed, staged, unstaged, untracked, deleted, renamed and binary changes, and leaves the worktree as it was', async () => {
    lanes = await createLaneRepo();
    const { repository, main } = lanes;
    const base = gitIn(main, 'rev-parse', 'HEAD');
    const lane = lanes.addLane('a');
    commitFiles(lane, 'committed', { 'dir0/file0.txt': 'content of file 0\ncommitted line\n', 'committed.txt': 'c\n' });
    write(lane, 'dir1/file1.txt', 'staged\n');
    gitIn(lane, 'add', 'dir1/file1.txt');
    write(lane, 'dir2/file2.txt', 'content of file 2\nunstaged 1\nunstaged 2\n');
    write(lane, 'untracked/new.txt', 'one\ntwo\nthree\n');
    rmSync(join(lane, 'dir3/file3.txt'));
    gitIn(lane, 'mv', 'dir4/file4.txt', 'renamed.txt');
    write(lane, 'image.bin', BINARY);
    write(lane, 'debug.log', 'ignored, so not part of the lane\n');
    const before = worktreeState(lane);
    const statusBefore = statusOf(lane);

    const diff = await laneDiff(repository, lane, base);

    expect(diff.base).toBe(base);
    expect([...diff.files].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'committed.txt', status: 'added', additions: 1, deletions: 0, binary: false },
      { path: 'dir0/file0.txt', status: 'modified', additions: 1, deletions: 0, binary: false },
      { path: 'dir1/file1.txt', status: 'modified', additions: 1, deletions: 1, binary: false },
      { path: 'dir2/file2.txt', status: 'modified', additions: 2, deletions: 0, binary: false },
      { path: 'dir3/file3.txt', status: 'deleted', additions: 0, deletions: 1, binary: false },
      { path: 'image.bin', status: 'added', additions: null, deletions: null, binary: true },
      {
        path: 'renamed.txt',
        oldPath: 'dir4/file4.txt',
        status: 'renamed',
        additions: 0,
        deletions: 0,
        binary: false,
      },
      { path: 'untracked/new.txt', status: 'added', additions: 3, deletions: 0, binary: false },
    ]);
    expect(diff.patch).toContain('+committed line\n');
    expect(diff.patch).toContain('-content of file 1\n+staged\n');
    expect(diff.patch).toContain('+unstaged 2\n');
    expect(diff.patch).toContain('+++ b/untracked/new.txt\n');
    expect(diff.patch).toContain('rename from dir4/file4.txt\nrename to renamed.txt\n');
    expect(diff.patch).toContain('Binary files /dev/null and b/image.bin differ\n');
    expect(diff.patch).not.toContain('GIT binary patch');
    expect(diff.patch).not.toContain('\0');
    expect(diff.patch).not.toContain('debug.log');
    expect(diff.patch.endsWith('\n')).toBe(true);

    // The worktree's index (its bytes), HEAD, files and status are exactly what they were.
    expect(worktreeState(lane)).toEqual(before);
    expect(statusOf(lane)).toBe(statusBefore);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(DIFF_SCRATCH_PREFIX))).toEqual([]);
  });

  it('gives a patch that turns the base into the worktree', async () => {
    lanes = await createLaneRepo();
    const { repository, main } = lanes;
    const base = gitIn(main, 'rev-parse', 'HEAD');
    const lane = lanes.addLane('a');
    commitFiles(lane, 'one', { 'dir0/file0.txt': 'rewritten\n', 'a/b/c.txt': 'deep\n' });
    write(lane, 'dir5/file5.txt', 'no newline at the end');
    rmSync(join(lane, 'dir6/file6.txt'));
    write(lane, 'fresh.txt', 'fresh\n');

    const { patch } = await laneDiff(repository, lane, base);

    const check = join(lanes.temp.base, 'check');
    gitIn(main, 'worktree', 'add', '-q', '--detach', check, base);
    execFileSync('git', ['apply', '--index', '-'], { cwd: check, input: patch });
    expect(fileHashes(check)).toEqual(fileHashes(lane));
  });

  it('is empty for a worktree with nothing beyond its base, and refuses a base that is no commit', async () => {
    lanes = await createLaneRepo();
    const { repository, main } = lanes;
    const lane = lanes.addLane('a');
    const base = gitIn(main, 'rev-parse', 'HEAD');
    expect(await laneDiff(repository, lane, base)).toEqual({ base, files: [], patch: '' });
    // Only the ignored file is new: still nothing.
    write(lane, 'x.log', 'ignored\n');
    expect((await laneDiff(repository, lane, base)).files).toEqual([]);
    await expect(laneDiff(repository, lane, 'f'.repeat(40))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('diffs against an older base too, and a file changed back shows no change', async () => {
    lanes = await createLaneRepo();
    const { repository, main } = lanes;
    const first = gitIn(main, 'rev-parse', 'HEAD');
    const second = commitFiles(main, 'main moves', { 'dir0/file0.txt': 'moved on\n' });
    const lane = lanes.addLane('a', second);
    write(lane, 'dir0/file0.txt', 'content of file 0\n');

    expect((await laneDiff(repository, lane, first)).files).toEqual([]);
    expect((await laneDiff(repository, lane, second)).files).toEqual([
      { path: 'dir0/file0.txt', status: 'modified', additions: 1, deletions: 1, binary: false },
    ]);
  });
});

describe('laneDiff and commitAll in a sparse lane', () => {
  it('see only what changed: files outside the cone are not deletions', async () => {
    lanes = await createLaneRepo();
    const { repository, main } = lanes;
    const base = gitIn(main, 'rev-parse', 'HEAD');
    const lane = join(lanes.temp.base, 'lanes', 'sparse');
    gitIn(main, 'worktree', 'add', '-q', '--no-checkout', '-b', 'lane/sparse', lane, base);
    gitIn(lane, 'sparse-checkout', 'set', '--cone', 'dir0');
    gitIn(lane, 'checkout', '-q');
    expect(existsSync(join(lane, 'dir1'))).toBe(false);
    write(lane, 'dir0/file0.txt', 'changed\n');
    const before = worktreeState(lane);

    const diff = await laneDiff(repository, lane, base);
    expect(diff.files).toEqual([
      { path: 'dir0/file0.txt', status: 'modified', additions: 1, deletions: 1, binary: false },
    ]);
    expect(worktreeState(lane)).toEqual(before);

    const { commit } = await commitAll(repository, lane, 'sparse change');
    expect(gitIn(main, 'diff-tree', '-r', '--name-status', '--no-commit-id', commit ?? 'none')).toBe(
      'M\tdir0/file0.txt',
    );
    expect(gitIn(main, 'ls-tree', '-r', '--name-only', commit ?? 'none').split('\n')).toContain('dir1/file1.txt');
  });
});

describe('parseSummary', () => {
  it('pairs raw entries with their numstat, renames and binaries included', () => {
    const raw =
      ':100644 100644 aaaaaaa bbbbbbb M\0f\0:100644 100644 ccccccc ccccccc R100\0g\0h\0:000000 100644 0000000 ddddddd A\0b.dat\0';
    const numstat = '3\t1\tf\0' + '0\t0\t\0g\0h\0' + '-\t-\tb.dat\0';
    expect(parseSummary(raw + numstat)).toEqual([
      { path: 'f', status: 'modified', additions: 3, deletions: 1, binary: false },
      { path: 'h', oldPath: 'g', status: 'renamed', additions: 0, deletions: 0, binary: false },
      { path: 'b.dat', status: 'added', additions: null, deletions: null, binary: true },
    ]);
    expect(parseSummary('')).toEqual([]);
  });
});
