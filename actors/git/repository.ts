import { realpathSync } from 'node:fs';
import { LanevisorError } from '../../bus/errors.js';
import { type GitOptions, git } from './git.js';

/** Where a repository lives: its main working tree and the git directory every worktree shares. */
export interface Repository {
  /** The top of the working tree the given path is in (the main one, or a linked worktree). */
  readonly topLevel: string;
  /** The shared git directory (`.git` of the main working tree): one per repository. */
  readonly commonDir: string;
  /**
   * Variables every git process run for this repository carries: a runtime's tag, so a git it
   * started is found (and stopped) if the runtime dies while git runs.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** Options for a git command on this repository: in `cwd` (default its top level), with its variables. */
export function inRepository(
  repository: Repository,
  cwd: string = repository.topLevel,
  env: Readonly<Record<string, string>> = {},
): GitOptions {
  return { cwd, env: { ...repository.env, ...env } };
}

/**
 * Resolves any path inside a git repository to its main working tree (from inside a linked
 * worktree, a lane's included, the main one: lanes are never made inside a lane). INVALID_ARGUMENT
 * when the path is not in a repository; git's own refusal (a repository owned by someone else)
 * is passed on with git's advice.
 */
export async function resolveRepository(path: string): Promise<Repository> {
  let cwd: string;
  try {
    cwd = realpathSync(path);
  } catch {
    throw new LanevisorError('INVALID_ARGUMENT', `repo does not exist: ${JSON.stringify(path)}`);
  }
  const result = await git(
    ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir', '--git-dir'],
    { cwd },
  );
  const [topLevel, commonDir, gitDir] = result.stdout.split('\n');
  if (result.exitCode !== 0 || !topLevel || !commonDir || !gitDir) throw refusal(path, result.stderr);
  const common = realpathSync(commonDir);
  const main = realpathSync(gitDir) === common ? realpathSync(topLevel) : await mainWorktree(cwd, topLevel);
  return { topLevel: main, commonDir: common };
}

/** The main working tree, seen from a linked one: the first entry git lists (unless the repository is bare). */
async function mainWorktree(cwd: string, current: string): Promise<string> {
  const listed = await git(['worktree', 'list', '--porcelain'], { cwd });
  const [first, second] = listed.stdout.split('\n');
  if (listed.exitCode !== 0 || !first?.startsWith('worktree ') || second === 'bare') return realpathSync(current);
  return realpathSync(first.slice('worktree '.length));
}

function refusal(path: string, stderr: string): LanevisorError {
  const dubious = /detected dubious ownership in repository at '([^']+)'/.exec(stderr);
  if (dubious) {
    const where = dubious[1] as string;
    return new LanevisorError(
      'GIT_ERROR',
      `git refuses the repository at ${where}: it is owned by another user (dubious ownership); if you trust it: git config --global --add safe.directory ${where}`,
      { details: { stderr: stderr.trim() } },
    );
  }
  return new LanevisorError('INVALID_ARGUMENT', `not inside a git working tree: ${path}`, {
    details: { stderr: stderr.trim() },
  });
}

/** The full SHA of a commit-ish; INVALID_ARGUMENT naming the ref when it does not name a commit. */
export async function resolveCommit(repository: Repository, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw new LanevisorError('INVALID_ARGUMENT', `baseRef may not start with "-": ${ref}`);
  const result = await git(
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
    inRepository(repository),
  );
  const sha = result.stdout.trim();
  if (result.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      `baseRef ${JSON.stringify(ref)} does not name a commit in ${repository.topLevel}`,
      {
        details: { baseRef: ref },
      },
    );
  }
  return sha;
}
