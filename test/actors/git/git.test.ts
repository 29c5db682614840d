import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { branchExists, commitsBeyond, deleteBranch } from '../../../actors/git/branches.js';
import { isInside } from '../../../actors/git/paths.js';
import { REPO_LOCK_NAME, withRepoLock } from '../../../actors/git/repo-lock.js';
import { resolveCommit, resolveRepository } from '../../../actors/git/repository.js';
import { hasUncommittedWork, SALVAGE_REF_PREFIX, salvageWorktree } from '../../../actors/git/salvage.js';
import { addWorktree, listWorktrees, parseWorktreeList, removeWorktree } from '../../../actors/git/worktrees.js';
import { isLanevisorError } from '../../../bus/errors.js';
import { distModule, lineFrom, spawnNodeScript } from '../../support/dist.js';
import { createTempRepo, gitIn, type TempRepo } from '../../support/git-repo.js';
import { killCheckoutMidway } from '../../support/kill-checkout.js';

let repo: TempRepo;
afterEach(() => repo?.dispose());

async function setup() {
  repo = createTempRepo();
  const repository = await resolveRepository(repo.path);
  const root = join(repo.base, 'lanes');
  mkdirSync(root);
  const base = await resolveCommit(repository, 'HEAD');
  return { repository, root, base };
}

describe('git actors', () => {
  it('resolves a repository from any path inside it, and refuses one outside', async () => {
    const { repository } = await setup();
    expect(repository.topLevel).toBe(repo.path);
    expect(repository.commonDir).toBe(join(repo.path, '.git'));
    expect((await resolveRepository(join(repo.path, 'dir1'))).topLevel).toBe(repo.path);
    await expect(resolveRepository(repo.base)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(resolveRepository('/nonexistent/x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('resolves commits and rejects what is not one', async () => {
    const { repository, base } = await setup();
    expect(base).toBe(gitIn(repo.path, 'rev-parse', 'HEAD'));
    expect(await resolveCommit(repository, 'main')).toBe(base);
    for (const bad of ['nope', '-rf', 'HEAD~5', 'main:dir1']) {
      await expect(resolveCommit(repository, bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('adds a locked worktree on a new branch, lists it, and removes it completely', async () => {
    const { repository, root, base } = await setup();
    const path = join(root, 'lane_a');
    await addWorktree(repository, root, { path, branch: 'lane/a', baseSha: base, lockReason: 'lanevisor lane_a' });
    const listed = (await listWorktrees(repository)).find((w) => w.path === path);
    expect(listed).toMatchObject({ branch: 'refs/heads/lane/a', head: base, locked: 'lanevisor lane_a' });
    // --no-track: no upstream recorded (and no contention on config.lock).
    expect(() => gitIn(repo.path, 'config', '--get', 'branch.lane/a.remote')).toThrow();
    await removeWorktree(repository, root, path);
    expect(existsSync(path)).toBe(false);
    expect((await listWorktrees(repository)).map((w) => w.path)).toEqual([repo.path]);
    expect(await branchExists(repository, 'lane/a')).toBe(true);
    await deleteBranch(repository, 'lane/a');
    await deleteBranch(repository, 'lane/a'); // already gone: fine
    expect(await branchExists(repository, 'lane/a')).toBe(false);
  }, 30_000);

  it('rolls back everything when add fails, and says why', async () => {
    const { repository, root } = await setup();
    const path = join(root, 'lane_b');
    const error = await addWorktree(repository, root, {
      path,
      branch: 'lane/b',
      baseSha: 'f'.repeat(40),
      lockReason: 'x',
    }).catch((e: unknown) => e);
    expect(isLanevisorError(error, 'GIT_ERROR')).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(await branchExists(repository, 'lane/b')).toBe(false);
    expect(await listWorktrees(repository)).toHaveLength(1);
  });

  it('rolls back a checkout that was killed mid-way', async () => {
    repo = createTempRepo(6_000);
    const repository = await resolveRepository(repo.path);
    const root = join(repo.base, 'lanes');
    mkdirSync(root);
    const path = join(root, 'lane_k');
    let settled = false;
    const adding = addWorktree(repository, root, {
      path,
      branch: 'lane/k',
      baseSha: await resolveCommit(repository, 'HEAD'),
      lockReason: 'x',
    })
      .then(
        () => undefined,
        (error: unknown) => error,
      )
      .finally(() => {
        settled = true;
      });
    const killed = await killCheckoutMidway(path, 'dir0', () => settled);
    const error = await adding;
    expect(killed.length).toBeGreaterThan(0);
    expect(isLanevisorError(error, 'GIT_ERROR')).toBe(true);
    expect((error as Error).message).toMatch(/killed by SIGKILL/);
    expect(existsSync(path)).toBe(false);
    expect(await branchExists(repository, 'lane/k')).toBe(false);
    expect(await listWorktrees(repository)).toHaveLength(1);
  }, 60_000);

  it('refuses a branch that exists as ALREADY_EXISTS and leaves that branch alone', async () => {
    const { repository, root, base } = await setup();
    gitIn(repo.path, 'checkout', '-q', '-b', 'lane/taken');
    writeFileSync(join(repo.path, 'theirs.txt'), 'their work\n');
    gitIn(repo.path, 'add', 'theirs.txt');
    gitIn(repo.path, 'commit', '-q', '-m', 'their commit');
    const theirs = gitIn(repo.path, 'rev-parse', 'lane/taken');
    gitIn(repo.path, 'checkout', '-q', 'main');
    const path = join(root, 'lane_c');
    const error = await addWorktree(repository, root, {
      path,
      branch: 'lane/taken',
      baseSha: base,
      lockReason: 'x',
    }).catch((e: unknown) => e);
    expect(isLanevisorError(error, 'ALREADY_EXISTS')).toBe(true);
    expect(gitIn(repo.path, 'rev-parse', 'lane/taken')).toBe(theirs);
    expect(existsSync(path)).toBe(false);
    expect(await listWorktrees(repository)).toHaveLength(1);
  });

  it('removes a worktree whose directory vanished, and one git refuses to remove', async () => {
    const { repository, root, base } = await setup();
    const gone = join(root, 'gone');
    await addWorktree(repository, root, { path: gone, branch: 'lane/gone', baseSha: base, lockReason: 'x' });
    gitIn(repo.path, 'worktree', 'unlock', gone);
    await import('node:fs/promises').then((fs) => fs.rm(gone, { recursive: true }));
    await removeWorktree(repository, root, gone);
    expect(await listWorktrees(repository)).toHaveLength(1);
  });

  it('never removes anything outside the worktree root, symlinks included', async () => {
    const { repository, root } = await setup();
    const outside = join(repo.base, 'precious');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    symlinkSync(outside, join(root, 'link'));
    for (const path of [
      outside,
      join(root, '..', 'precious'),
      join(root, 'link'),
      join(root, 'link', 'keep.txt'),
      root,
    ]) {
      await expect(removeWorktree(repository, root, path)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    expect(isInside(root, join(root, 'lane_x'))).toBe(true);
    expect(isInside(root, join(root, 'not', 'yet', 'made'))).toBe(true);
  });

  it('counts commits beyond the base', async () => {
    const { repository, root, base } = await setup();
    const path = join(root, 'work');
    await addWorktree(repository, root, { path, branch: 'lane/work', baseSha: base, lockReason: 'x' });
    expect(await commitsBeyond(repository, base, 'lane/work')).toBe(0);
    writeFileSync(join(path, 'new.txt'), 'new');
    gitIn(path, 'add', 'new.txt');
    gitIn(path, 'commit', '-q', '-m', 'work');
    expect(await commitsBeyond(repository, base, 'lane/work')).toBe(1);
    expect(await commitsBeyond(repository, base, 'lane/none')).toBe(0);
  });

  it('salvages tracked changes, deletions and untracked files, not ignored ones, without touching the worktree', async () => {
    const { repository, root, base } = await setup();
    const path = join(root, 'dirty');
    await addWorktree(repository, root, { path, branch: 'lane/dirty', baseSha: base, lockReason: 'x' });
    expect(await hasUncommittedWork(path)).toBe(false);
    writeFileSync(join(path, 'dir1', 'file1.txt'), 'changed\n');
    gitIn(path, 'rm', '-q', 'dir2/file2.txt');
    mkdirSync(join(path, 'fresh'));
    writeFileSync(join(path, 'fresh', 'untracked.txt'), 'untracked\n');
    writeFileSync(join(path, 'debug.log'), 'ignored\n');
    expect(await hasUncommittedWork(path)).toBe(true);
    const statusBefore = gitIn(path, 'status', '--porcelain');
    const ref = await salvageWorktree(repository, path, 'lane_dirty', 'salvage of lane_dirty');
    expect(ref).toBe(`${SALVAGE_REF_PREFIX}lane_dirty`);
    expect(gitIn(path, 'status', '--porcelain')).toBe(statusBefore);
    expect(gitIn(repo.path, 'rev-parse', `${ref}^`)).toBe(base);
    expect(gitIn(repo.path, 'show', `${ref}:dir1/file1.txt`)).toBe('changed');
    expect(gitIn(repo.path, 'show', `${ref}:fresh/untracked.txt`)).toBe('untracked');
    expect(() => gitIn(repo.path, 'show', `${ref}:dir2/file2.txt`)).toThrow();
    expect(() => gitIn(repo.path, 'show', `${ref}:debug.log`)).toThrow();
    // A second salvage under the same name gets its own ref.
    expect(await salvageWorktree(repository, path, 'lane_dirty', 'again')).toBe(`${SALVAGE_REF_PREFIX}lane_dirty-2`);
  });

  it('serializes work under the repository lock, in this process and across processes', async () => {
    const { repository } = await setup();
    const order: string[] = [];
    const task = (name: string, ms: number) =>
      withRepoLock(repository.commonDir, async () => {
        order.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        order.push(`end ${name}`);
        return name;
      });
    const results = await Promise.all([task('a', 30), task('b', 5), task('c', 1)]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    // A failing holder releases the lock for the next one.
    await expect(withRepoLock(repository.commonDir, async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    expect(await withRepoLock(repository.commonDir, async () => 'next')).toBe('next');

    // Another process holding the lock makes us wait for it.
    const holder = spawnNodeScript(`
      import { acquireProcessLock } from ${JSON.stringify(distModule('actors/process/process-lock.js'))};
      const held = await acquireProcessLock(${JSON.stringify(join(repository.commonDir, REPO_LOCK_NAME))}, 'holder', { waitMs: 0, what: 'x' });
      console.log('held');
      setTimeout(() => held.release().then(() => process.exit(0)), 400);
    `);
    await lineFrom(holder, (line) => line === 'held');
    const started = Date.now();
    await withRepoLock(repository.commonDir, async () => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('parses porcelain -z output', () => {
    const output =
      'worktree /a\0HEAD abc\0branch refs/heads/main\0\0worktree /b\0HEAD def\0detached\0locked reason with spaces\0prunable gitdir file points to non-existent location\0\0';
    expect(parseWorktreeList(output)).toEqual([
      { path: '/a', head: 'abc', branch: 'refs/heads/main', locked: null, prunable: null },
      {
        path: '/b',
        head: 'def',
        branch: null,
        locked: 'reason with spaces',
        prunable: 'gitdir file points to non-existent location',
      },
    ]);
  });
});
