import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  branchesCheckedOut,
  createMarkedBranch,
  decideLaneBranch,
  deleteMarkedBranch,
  markerRef,
  readOneBranch,
} from '../../../actors/git/branch-ownership.js';
import { resolveCommit, resolveRepository } from '../../../actors/git/repository.js';
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

describe('branch ownership', () => {
  it('creates a branch and its marker together, and refuses a branch that exists without touching it', async () => {
    const { repository, base } = await setup();
    await createMarkedBranch(repository, 'lane/new', base);
    expect(gitIn(repo.path, 'rev-parse', 'lane/new', markerRef('lane/new'))).toBe(`${base}\n${base}`);

    gitIn(repo.path, 'branch', 'lane/taken');
    gitIn(repo.path, 'branch', 'lane/parent/child');
    const before = refsOf();
    for (const branch of ['lane/taken', 'lane/parent']) {
      const error = await createMarkedBranch(repository, branch, base).catch((e: unknown) => e);
      expect(isLanevisorError(error, 'ALREADY_EXISTS')).toBe(true);
    }
    expect(refsOf()).toBe(before);
    // A commit that does not exist is git's error, not a "branch exists".
    const missing = await createMarkedBranch(repository, 'lane/nothing', 'f'.repeat(40)).catch((e: unknown) => e);
    expect(isLanevisorError(missing, 'GIT_ERROR')).toBe(true);
    expect(refsOf()).toBe(before);
  });

  it('replaces a stale marker (its branch deleted by hand) when the branch is made again', async () => {
    const { repository, base } = await setup();
    const older = gitIn(repo.path, 'commit-tree', '-m', 'older', `${base}^{tree}`);
    gitIn(repo.path, 'update-ref', markerRef('lane/again'), older);
    await createMarkedBranch(repository, 'lane/again', base);
    expect(gitIn(repo.path, 'rev-parse', markerRef('lane/again'))).toBe(base);
  });

  it('keeps a branch with no marker, a rewritten history, an upstream, a config entry or a checkout; deletes an unmoved one only', async () => {
    const { repository, base } = await setup();
    const decide = (branch: string, discard = false) =>
      decideLaneBranch(repository, branch, base, discard).then((d) => d.verdict);
    gitIn(repo.path, 'branch', 'lane/users');
    expect(await decide('lane/users')).toBe('not_ours');
    expect(await decide('lane/none')).toBe('absent');

    await createMarkedBranch(repository, 'lane/rewritten', base);
    gitIn(repo.path, 'branch', '-f', 'lane/rewritten', gitIn(repo.path, 'commit-tree', '-m', 'x', `${base}^{tree}`));
    expect(await decide('lane/rewritten', true)).toBe('history_changed');

    await createMarkedBranch(repository, 'lane/pushed', base);
    gitIn(repo.path, 'remote', 'add', 'origin', join(repo.base, 'up.git'));
    gitIn(repo.path, 'config', 'branch.lane/pushed.remote', 'origin');
    gitIn(repo.path, 'config', 'branch.lane/pushed.merge', 'refs/heads/pushed');
    expect(await decide('lane/pushed', true)).toBe('upstream');

    await createMarkedBranch(repository, 'lane/described', base);
    gitIn(repo.path, 'config', 'branch.lane/described.description', 'my notes');
    expect(await decide('lane/described', true)).toBe('configured');
    await createMarkedBranch(repository, 'lane/refspec', base);
    gitIn(repo.path, 'config', 'remote.origin.push', 'refs/heads/lane/refspec:refs/heads/review');
    expect(await decide('lane/refspec', true)).toBe('configured');

    await createMarkedBranch(repository, 'lane/used', base);
    mkdirSync(join(repo.base, 'wt'));
    gitIn(repo.path, 'worktree', 'add', '-q', join(repo.base, 'wt', 'used'), 'lane/used');
    expect(await decide('lane/used', true)).toBe('checked_out');
    expect(branchesCheckedOut(repository.commonDir, new Set([join(repo.base, 'wt', 'used')]))).not.toContain(
      'refs/heads/lane/used',
    );
    expect(
      (await decideLaneBranch(repository, 'lane/used', base, true, new Set([join(repo.base, 'wt', 'used')]))).verdict,
    ).toBe('delete');

    await createMarkedBranch(repository, 'lane/work', base);
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
