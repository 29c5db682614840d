import { LanevisorError } from '../../bus/errors.js';
import { git, gitError, gitOrThrow } from './git.js';
import { inRepository, type Repository } from './repository.js';

/**
 * `lane.commit(message)`: everything in the worktree (`git add -A`) committed on its branch.
 *
 * The commit goes through porcelain `git commit`, so the user's hooks (pre-commit, commit-msg, …)
 * and signing settings apply to a lane's commits as to any other: a lane is a checkout of the
 * user's repository, and a hook's refusal is a GIT_ERROR carrying the hook's output. Like
 * `git add -A && git commit`, a refused commit leaves the changes staged.
 */
export interface CommitResult {
  /** The new commit, or null when there was nothing to commit. */
  readonly commit: string | null;
}

export async function commitAll(repository: Repository, worktreePath: string, message: string): Promise<CommitResult> {
  if (typeof message !== 'string' || message.trim() === '') {
    throw new LanevisorError('INVALID_ARGUMENT', 'a commit message must not be empty');
  }
  const options = inRepository(repository, worktreePath);
  await gitOrThrow(['add', '--all', '--', '.'], options);
  // Exit 0: nothing staged against HEAD (or, before the first commit, an empty index).
  const staged = await git(['diff', '--cached', '--quiet', '--ignore-submodules=none'], options);
  if (staged.exitCode === 0) return { commit: null };
  if (staged.exitCode !== 1) throw gitError(['diff', '--cached'], staged);
  // The message on stdin: taken verbatim, whatever it starts with.
  await gitOrThrow(['commit', '--quiet', '--file=-'], { ...options, input: message });
  return { commit: (await gitOrThrow(['rev-parse', '--verify', 'HEAD'], options)).trim() };
}
