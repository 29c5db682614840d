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

/** Resolves any path inside a git repository; INVALID_ARGUMENT when it is not in one. */
export async function resolveRepository(path: string): Promise<Repository> {
  let cwd: string;
  try {
    cwd = realpathSync(path);
  } catch {
    throw new LanevisorError('INVALID_ARGUMENT', `repo does not exist: ${JSON.stringify(path)}`);
  }
  const result = await git(['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'], { cwd });
  const [topLevel, commonDir] = result.stdout.split('\n');
  if (result.exitCode !== 0 || !topLevel || !commonDir) {
    throw new LanevisorError('INVALID_ARGUMENT', `not inside a git working tree: ${path}`, {
      details: { stderr: result.stderr.trim() },
    });
  }
  return { topLevel: realpathSync(topLevel), commonDir: realpathSync(commonDir) };
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
