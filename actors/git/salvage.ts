import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { git, gitOrThrow } from './git.js';
import { inRepository, type Repository } from './repository.js';

/**
 * Saving a worktree's uncommitted work before it is removed: a commit whose tree is the worktree's
 * full state (tracked changes and untracked files, not ignored ones) and whose parent is the
 * worktree's HEAD, kept under a ref. Built in a temporary index, so the worktree itself (its
 * index, its branch) is left untouched; the ref is what makes the commit reachable.
 */
export const SALVAGE_REF_PREFIX = 'refs/lanevisor/salvage/';
/** The temporary index of a salvage in progress: `<git common dir>/lanevisor-salvage-XXXXXX/`. */
export const SALVAGE_SCRATCH_PREFIX = 'lanevisor-salvage-';

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
  const gitDir = (await gitOrThrow(['rev-parse', '--absolute-git-dir'], inRepository(repository, worktreePath))).trim();
  const head = (
    await git(['rev-parse', '--verify', '--quiet', 'HEAD'], inRepository(repository, worktreePath))
  ).stdout.trim();
  // Starting from the worktree's own index makes `add -A` only hash what changed.
  const ref = await commitSnapshot(repository, {
    cwd: worktreePath,
    seedIndex: join(gitDir, 'index'),
    parent: head || null,
    name,
    message,
    env: {},
  });
  return ref as string;
}

/**
 * Saves a directory git no longer knows as a worktree (its record lost, its checkout half done)
 * the same way: a commit of every file in it (`.git` aside) on top of `parent` when one is known.
 * Returns null, creating nothing, when there is nothing to save: no file, or exactly `parent`'s tree.
 */
export async function salvageDirectory(
  repository: Repository,
  directory: string,
  name: string,
  message: string,
  parent: string | null,
): Promise<string | null> {
  return commitSnapshot(repository, {
    cwd: directory,
    seedIndex: null,
    parent,
    name,
    message,
    onlyIfChanged: true,
    env: { GIT_DIR: repository.commonDir, GIT_WORK_TREE: directory },
  });
}

interface SnapshotRequest {
  readonly cwd: string;
  /** An index to start from (only what differs is hashed again), or null for an empty one. */
  readonly seedIndex: string | null;
  readonly parent: string | null;
  readonly name: string;
  readonly message: string;
  /** Skip the commit when the tree is the parent's (or empty without a parent). */
  readonly onlyIfChanged?: boolean;
  readonly env: Readonly<Record<string, string>>;
}

/** Commits the full state of a tree of files through a temporary index; the working files and git's own index stay untouched. */
async function commitSnapshot(repository: Repository, request: SnapshotRequest): Promise<string | null> {
  // Inside the repository's git directory, where a later reconciliation finds it if we are killed here.
  const scratch = await mkdtemp(join(repository.commonDir, SALVAGE_SCRATCH_PREFIX));
  const index = join(scratch, 'index');
  try {
    if (request.seedIndex !== null) await copyFile(request.seedIndex, index).catch(() => undefined);
    const options = inRepository(repository, request.cwd, {
      ...SALVAGE_IDENTITY,
      ...request.env,
      GIT_INDEX_FILE: index,
    });
    await gitOrThrow(['add', '--all', '--', '.'], options);
    const tree = (await gitOrThrow(['write-tree'], options)).trim();
    if (request.onlyIfChanged && tree === (await treeOf(repository, request.parent))) return null;
    const parents = request.parent ? ['-p', request.parent] : [];
    const commit = (await gitOrThrow(['commit-tree', tree, ...parents, '-m', request.message], options)).trim();
    const ref = await freeRefName(repository, `${SALVAGE_REF_PREFIX}${request.name}`);
    // Creates the ref only if it does not exist (the zero old value).
    await gitOrThrow(['update-ref', ref, commit, '0'.repeat(commit.length)], inRepository(repository));
    return ref;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The tree of a commit, or the empty tree for none (`mktree` reading nothing: git's stdin is /dev/null). */
async function treeOf(repository: Repository, commit: string | null): Promise<string> {
  const args = commit === null ? ['mktree'] : ['rev-parse', '--verify', `${commit}^{tree}`];
  return (await gitOrThrow(args, inRepository(repository))).trim();
}

async function freeRefName(repository: Repository, base: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    const exists = await git(['show-ref', '--verify', '--quiet', candidate], inRepository(repository));
    if (exists.exitCode !== 0) return candidate;
  }
}

/**
 * Removes the scratch directories of salvages that never finished (their process was killed).
 * Call it under the repository lock, where no salvage of this repository can be running.
 */
export async function removeSalvageScratch(repository: Repository): Promise<number> {
  const names = (await readdir(repository.commonDir)).filter((name) => name.startsWith(SALVAGE_SCRATCH_PREFIX));
  await Promise.all(names.map((name) => rm(join(repository.commonDir, name), { recursive: true, force: true })));
  return names.length;
}

/** One salvage commit kept under `refs/lanevisor/salvage/`. */
export interface SalvageRef {
  readonly ref: string;
  /** The name it was saved under: the lane id (or a stray directory's name), with a `-N` suffix for a second one. */
  readonly name: string;
  readonly commit: string;
  /** When it was saved (the commit's committer date), epoch milliseconds. */
  readonly savedAt: number;
  /** Files it changes against its parent (all of them when it has none). */
  readonly files: number;
}

/** Every salvage ref, oldest first. */
export async function listSalvageRefs(repository: Repository): Promise<SalvageRef[]> {
  const output = await gitOrThrow(
    [
      'for-each-ref',
      '--sort=committerdate',
      '--format=%(refname)%00%(objectname)%00%(committerdate:unix)',
      SALVAGE_REF_PREFIX,
    ],
    inRepository(repository),
  );
  const refs = output
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\0') as [string, string, string]);
  return Promise.all(
    refs.map(async ([ref, commit, date]) => ({
      ref,
      name: ref.slice(SALVAGE_REF_PREFIX.length),
      commit,
      savedAt: Number(date) * 1000,
      files: await filesOf(repository, commit),
    })),
  );
}

async function filesOf(repository: Repository, commit: string): Promise<number> {
  const output = await gitOrThrow(
    ['diff-tree', '--no-commit-id', '--name-only', '-r', '--root', '-z', commit],
    inRepository(repository),
  );
  return output.split('\0').filter((name) => name.length > 0).length;
}

/** Deletes a salvage ref if it still names `commit` (compare-and-swap). Call under the repository lock. */
export async function deleteSalvageRef(
  repository: Repository,
  salvage: Pick<SalvageRef, 'ref' | 'commit'>,
): Promise<boolean> {
  const result = await git(['update-ref', '-d', salvage.ref, salvage.commit], inRepository(repository));
  return result.exitCode === 0;
}
