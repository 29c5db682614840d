import { git, gitError } from './git.js';
import type { Repository } from './repository.js';

export async function branchExists(repository: Repository, branch: string): Promise<boolean> {
  const result = await git(['show-ref', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: repository.topLevel });
  return result.exitCode === 0;
}

/** How many commits the branch has that `base` does not (0 when the branch is gone). */
export async function commitsBeyond(repository: Repository, base: string, branch: string): Promise<number> {
  const args = ['rev-list', '--count', `${base}..refs/heads/${branch}`];
  const result = await git(args, { cwd: repository.topLevel });
  if (result.exitCode === 0) return Number(result.stdout.trim());
  // Asked only on failure: the common case costs one git process.
  if (!(await branchExists(repository, branch))) return 0;
  throw gitError(args, result);
}

/** Deletes a branch; a branch that is already gone is not an error. Call under the repository lock. */
export async function deleteBranch(repository: Repository, branch: string): Promise<void> {
  const args = ['branch', '-D', '--', branch];
  const result = await git(args, { cwd: repository.topLevel });
  if (result.exitCode !== 0 && (await branchExists(repository, branch))) throw gitError(args, result);
}
