import { git, gitError, gitOrThrow } from './git.js';
import { inRepository, type Repository } from './repository.js';

export async function branchExists(repository: Repository, branch: string): Promise<boolean> {
  const result = await git(['show-ref', '--verify', '--quiet', `refs/heads/${branch}`], inRepository(repository));
  return result.exitCode === 0;
}

/** How many commits the branch has that `base` does not (0 when the branch is gone). */
export async function commitsBeyond(repository: Repository, base: string, branch: string): Promise<number> {
  const args = ['rev-list', '--count', `${base}..refs/heads/${branch}`];
  const result = await git(args, inRepository(repository));
  if (result.exitCode === 0) return Number(result.stdout.trim());
  // Asked only on failure: the common case costs one git process.
  if (!(await branchExists(repository, branch))) return 0;
  throw gitError(args, result);
}

/** Deletes a branch; a branch that is already gone is not an error. Call under the repository lock. */
export async function deleteBranch(repository: Repository, branch: string): Promise<void> {
  const args = ['branch', '-D', '--', branch];
  const result = await git(args, inRepository(repository));
  if (result.exitCode !== 0 && (await branchExists(repository, branch))) throw gitError(args, result);
}

/** The branches under `refs/heads/<prefix>`, by name (without `refs/heads/`). */
export async function listBranches(repository: Repository, prefix: string): Promise<string[]> {
  const output = await gitOrThrow(
    ['for-each-ref', '--format=%(refname:lstrip=2)', `refs/heads/${prefix}`],
    inRepository(repository),
  );
  return output.split('\n').filter((line) => line.length > 0);
}

/**
 * How many commits of the branch no other ref reaches: what deleting the branch would lose (0
 * means every commit stays reachable, from its base or from elsewhere). Other worktrees' HEADs are
 * not counted as reaching it (`--single-worktree`): one of them may be about to be removed.
 */
export async function commitsOnlyOn(repository: Repository, branch: string): Promise<number> {
  const ref = `refs/heads/${branch}`;
  const output = await gitOrThrow(
    ['rev-list', '--count', ref, '--not', '--single-worktree', `--exclude=${ref}`, '--all'],
    inRepository(repository),
  );
  return Number(output.trim());
}
