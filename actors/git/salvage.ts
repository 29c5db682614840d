import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, gitOrThrow } from './git.js';
import type { Repository } from './repository.js';

/**
 * Saving a worktree's uncommitted work before it is removed: a commit whose tree is the worktree's
 * full state (tracked changes and untracked files, not ignored ones) and whose parent is the
 * worktree's HEAD, kept under a ref. Built in a temporary index, so the worktree itself (its
 * index, its branch) is left untouched; the ref is what makes the commit reachable.
 */
export const SALVAGE_REF_PREFIX = 'refs/lanevisor/salvage/';

/** Who the salvage commits are by, when the repository has no identity configured. */
const SALVAGE_IDENTITY = {
  GIT_AUTHOR_NAME: 'lanevisor',
  GIT_AUTHOR_EMAIL: 'lanevisor@localhost',
  GIT_COMMITTER_NAME: 'lanevisor',
  GIT_COMMITTER_EMAIL: 'lanevisor@localhost',
};

/** True when the worktree has staged, unstaged or untracked (not ignored) changes. */
export async function hasUncommittedWork(worktreePath: string): Promise<boolean> {
  const status = await gitOrThrow(
    ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignore-submodules=none'],
    {
      cwd: worktreePath,
    },
  );
  return status.length > 0;
}

/** Commits the worktree's full state to `<SALVAGE_REF_PREFIX><name>` and returns the ref (a suffix if it exists). */
export async function salvageWorktree(
  repository: Repository,
  worktreePath: string,
  name: string,
  message: string,
): Promise<string> {
  const gitDir = (await gitOrThrow(['rev-parse', '--absolute-git-dir'], { cwd: worktreePath })).trim();
  const scratch = await mkdtemp(join(tmpdir(), 'lanevisor-salvage-'));
  const index = join(scratch, 'index');
  try {
    // Starting from the worktree's own index makes `add -A` only hash what changed.
    await copyFile(join(gitDir, 'index'), index).catch(() => undefined);
    const env = { ...SALVAGE_IDENTITY, GIT_INDEX_FILE: index };
    await gitOrThrow(['add', '--all', '--', '.'], { cwd: worktreePath, env });
    const tree = (await gitOrThrow(['write-tree'], { cwd: worktreePath, env })).trim();
    const head = (await git(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: worktreePath })).stdout.trim();
    const parents = head ? ['-p', head] : [];
    const commit = (
      await gitOrThrow(['commit-tree', tree, ...parents, '-m', message], { cwd: worktreePath, env })
    ).trim();
    const ref = await freeRefName(repository, `${SALVAGE_REF_PREFIX}${name}`);
    // Creates the ref only if it does not exist (the zero old value).
    await gitOrThrow(['update-ref', ref, commit, '0'.repeat(commit.length)], { cwd: repository.topLevel });
    return ref;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function freeRefName(repository: Repository, base: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    const exists = await git(['show-ref', '--verify', '--quiet', candidate], { cwd: repository.topLevel });
    if (exists.exitCode !== 0) return candidate;
  }
}
