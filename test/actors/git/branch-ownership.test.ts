import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decideLaneBranch,
  deleteMarkedBranch,
  markerRef,
  readOneBranch,
  writeMarker,
} from '../../../actors/git/branch-ownership.js';
import { branchesCheckedOut, branchRefTaken } from '../../../actors/git/git-files.js';
import { resolveCommit, resolveRepository } from '../../../actors/git/repository.js';
import { addWorktree, removeWorktree } from '../../../actors/git/worktrees.js';
import { isLanevisorError } from '../../../bus/errors.js';
import { createTempRepo, gitIn, type TempRepo } from '../../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.dispose());

async function setup() {
  repo = createTempRepo();
  const repository = await resolveRepository(repo.path);
  return { repository, base: await resolveCommit(repository, 'HEAD') };
}

const refsOf = () => gitIn(repo.path, 'for-each-ref', '--format=%(refname) %(objectname)');

function commitOn(branch: string, file: string): string {
  gitIn(repo.path, 'checkout', '-q', branch);
  writeFileSync(join(repo.path, file), `${file}\n`);
  gitIn(repo.path, 'add', file);
  gitIn(repo.path, 'commit', '-q', '-m', file);
  gitIn(repo.path, 'checkout', '-q', 'main');
  return gitIn(repo.path, 'rev-parse', branch);
}

/** A branch as lanevisor makes one: the branch, then its marker at the same commit. */
async function markedBranch(repository: Awaited<ReturnType<typeof resolveRepository>>, branch: string, sha: string) {
  gitIn(repo.path, 'branch', branch, sha);
  await writeMarker(repository, branch, sha);
}

describe('branch ownership', () => {
  it('adds a lane worktree with its branch and marker, and refuses a branch that exists without touching it', async () => {
    const { repository, base } = await setup();
    const root = join(repo.base, 'lanes');
    mkdirSync(root);
    const add = (branch: string, name: string) =>
      addWorktree(repository, root, {
        path: join(root, name),
        branch,
        baseSha: base,
        lockReason: `lanevisor lane ${name}`,
      });
    await add('lane/new', 'lane_new');
    expect(gitIn(repo.path, 'rev-parse', 'lane/new', markerRef('lane/new'))).toBe(`${base}\n${base}`);

    gitIn(repo.path, 'branch', 'lane/taken');
    gitIn(repo.path, 'branch', 'lane/parent/child');
    const before = refsOf();
    for (const branch of ['lane/taken', 'lane/parent']) {
      const error = await add(branch, 'lane_other').catch((e: unknown) => e);
      expect(isLanevisorError(error, 'ALREADY_EXISTS'), branch).toBe(true);
    }
    expect(refsOf()).toBe(before);
    await removeWorktree(repository, root, join(root, 'lane_new'));
  });

  it('replaces a stale marker (its branch deleted by hand) when the branch is made again', async () => {
    const { repository, base } = await setup();
    const older = gitIn(repo.path, 'commit-tree', '-m', 'older', `${base}^{tree}`);
    gitIn(repo.path, 'update-ref', markerRef('lane/again'), older);
    gitIn(repo.path, 'branch', 'lane/again', base);
    await writeMarker(repository, 'lane/again', base);
    expect(gitIn(repo.path, 'rev-parse', markerRef('lane/again'))).toBe(base);
    expect(readdirSync(join(repo.path, '.git')).filter((name) => name.startsWith('lanevisor-marker-'))).toEqual([]);
  });

  it("sees a branch in git's files without a process: loose, packed, below or above the name", async () => {
    await setup();
    const common = join(repo.path, '.git');
    gitIn(repo.path, 'branch', 'lane/loose');
    gitIn(repo.path, 'branch', 'lane/deep/child');
    gitIn(repo.path, 'branch', 'lane/packed');
    gitIn(repo.path, 'branch', 'lane/top');
    gitIn(repo.path, 'pack-refs', '--all');
    expect(existsSync(join(common, 'refs/heads/lane/packed'))).toBe(false);
    for (const taken of ['lane/loose', 'lane/packed', 'lane/deep', 'lane/top/below', 'main']) {
      expect(branchRefTaken(common, taken), taken).toBe(true);
    }
    for (const free of ['lane/free', 'lane/pack', 'lane/deeper'])
      expect(branchRefTaken(common, free), free).toBe(false);
  });

  it('keeps a branch with no marker, a rewritten history, an upstream, a config entry or a checkout; deletes an unmoved one only', async () => {
    const { repository, base } = await setup();
    const decide = (branch: string, discard = false) =>
      decideLaneBranch(repository, branch, base, discard).then((d) => d.verdict);
    gitIn(repo.path, 'branch', 'lane/users');
    expect(await decide('lane/users')).toBe('not_ours');
    expect(await decide('lane/none')).toBe('absent');

    await markedBranch(repository, 'lane/rewritten', base);
    gitIn(repo.path, 'branch', '-f', 'lane/rewritten', gitIn(repo.path, 'commit-tree', '-m', 'x', `${base}^{tree}`));
    expect(await decide('lane/rewritten', true)).toBe('history_changed');

    await markedBranch(repository, 'lane/pushed', base);
    gitIn(repo.path, 'remote', 'add', 'origin', join(repo.base, 'up.git'));
    gitIn(repo.path, 'config', 'branch.lane/pushed.remote', 'origin');
    gitIn(repo.path, 'config', 'branch.lane/pushed.merge', 'refs/heads/pushed');
    expect(await decide('lane/pushed', true)).toBe('upstream');

    await markedBranch(repository, 'lane/described', base);
    gitIn(repo.path, 'config', 'branch.lane/described.description', 'my notes');
    expect(await decide('lane/described', true)).toBe('configured');
    await markedBranch(repository, 'lane/refspec', base);
    gitIn(repo.path, 'config', 'remote.origin.push', 'refs/heads/lane/refspec:refs/heads/review');
    expect(await decide('lane/refspec', true)).toBe('configured');

    await markedBranch(repository, 'lane/used', base);
    mkdirSync(join(repo.base, 'wt'));
    gitIn(repo.path, 'worktree', 'add', '-q', join(repo.base, 'wt', 'used'), 'lane/used');
    expect(await decide('lane/used', true)).toBe('checked_out');
    expect(branchesCheckedOut(repository.commonDir, new Set([join(repo.base, 'wt', 'used')]))).not.toContain(
      'refs/heads/lane/used',
    );
    expect(
      (await decideLaneBranch(repository, 'lane/used', base, true, new Set([join(repo.base, 'wt', 'used')]))).verdict,
    ).toBe('delete');

    await markedBranch(repository, 'lane/work', base);
    commitOn('lane/work', 'work.txt');
    expect(await decide('lane/work')).toBe('commits');
    expect(await decide('lane/work', true)).toBe('delete');

    // Deleting is a compare-and-swap: a branch that moved after it was read is left as it is.
    const facts = await readOneBranch(repository, 'lane/work');
    const moved = commitOn('lane/work', 'more.txt');
    expect(await deleteMarkedBranch(repository, facts)).toBe(false);
    expect(gitIn(repo.path, 'rev-parse', 'lane/work')).toBe(moved);
    expect(await deleteMarkedBranch(repository, await readOneBranch(repository, 'lane/work'))).toBe(true);
    expect(gitIn(repo.path, 'for-each-ref', 'refs/heads/lane/work', markerRef('lane/work'))).toBe('');
  });
});
