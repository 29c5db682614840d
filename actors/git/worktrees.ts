import { existsSync, readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { LanevisorError } from '../../bus/errors.js';
import { branchExistsRefusal, removeMarker, writeMarker } from './branch-ownership.js';
import { type GitResult, git, gitError, gitOrThrow } from './git.js';
import { branchRefTaken } from './git-files.js';
import { assertInside } from './paths.js';
import { inRepository, type Repository } from './repository.js';

/** One entry of `git worktree list --porcelain -z`. */
export interface WorktreeEntry {
  readonly path: string;
  readonly head: string | null;
  /** `refs/heads/…`, or null when detached. */
  readonly branch: string | null;
  readonly locked: string | null;
  readonly prunable: string | null;
}

/** Errors of git's own races between parallel worktree commands: worth a retry. */
export const RETRYABLE_GIT_RACE =
  /failed to read .*commondir|could not lock|Invalid path '.*worktrees\/|cannot lock ref|index\.lock/;
export const WORKTREE_ADD_ATTEMPTS = 3;
/** A worktree directory git would not remove is moved aside under this name before it is deleted. */
export const REMOVAL_ASIDE_PREFIX = '.removing-';
/** The lock reason of a worktree whose `worktree add` has not finished (or was killed). */
export const ADD_IN_PROGRESS_LOCK = 'initializing';

export function parseWorktreeList(output: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  for (const block of output.split('\0\0')) {
    const fields = block.split('\0').filter((line) => line.length > 0);
    const first = fields[0];
    if (first === undefined || !first.startsWith('worktree ')) continue;
    const value = (name: string): string | null => {
      const field = fields.find((f) => f === name || f.startsWith(`${name} `));
      return field === undefined ? null : field.slice(name.length + 1);
    };
    entries.push({
      path: first.slice('worktree '.length),
      head: value('HEAD'),
      branch: value('branch'),
      locked: value('locked'),
      prunable: value('prunable'),
    });
  }
  return entries;
}

/**
 * Fills a worktree added without a checkout with a cone-mode sparse checkout of the request's
 * directories. git keeps a worktree's sparse settings in its own config only with
 * `extensions.worktreeConfig`, which `sparse-checkout` turns on in the repository's config (the
 * one change it makes there; the main worktree stays whole). A failure rolls the worktree back.
 */
async function checkOutSparse(repository: Repository, root: string, request: AddWorktreeRequest): Promise<void> {
  const inWorktree = inRepository(repository, request.path);
  try {
    // A sparse index holds the cone's entries only: the checkout no longer writes one per file of the repository.
    await gitOrThrow(
      ['sparse-checkout', 'set', '--cone', '--sparse-index', '--', ...(request.sparse ?? [])],
      inWorktree,
    );
    await gitOrThrow(['checkout'], inWorktree);
  } catch (error) {
    await rollBackWorktree(repository, root, request.path, request.branch, request.baseSha);
    throw error;
  }
}

export async function listWorktrees(repository: Repository): Promise<WorktreeEntry[]> {
  return parseWorktreeList(await gitOrThrow(['worktree', 'list', '--porcelain', '-z'], inRepository(repository)));
}

export interface AddWorktreeRequest {
  readonly path: string;
  readonly branch: string;
  readonly baseSha: string;
  /** Shown by `git worktree list`; marks the worktree as ours and keeps prune and gc off it. */
  readonly lockReason: string;
  /** Directories of a cone-mode sparse checkout (with the files at the top); the whole tree when absent. */
  readonly sparse?: readonly string[] | null;
}

/**
 * The branch's ownership marker (see branch-ownership.ts), then `git worktree add --lock -b
 * <branch> --no-track <path> <sha>`, retried on git's known races after rolling back what the
 * failed attempt left (a failed `add -b` may have created the branch). Call it under the
 * repository lock; on final failure everything it made is rolled back. The marker goes first so
 * that a checkout killed after git made the branch leaves a branch provably lanevisor's; it is
 * written only when git's files show no such branch, and git's own refusal of a branch that exists
 * (one made in between) is ALREADY_EXISTS: the branch is left alone and the marker taken back.
 */
export async function addWorktree(repository: Repository, root: string, request: AddWorktreeRequest): Promise<void> {
  assertInside(root, request.path);
  const sparse = request.sparse !== undefined && request.sparse !== null && request.sparse.length > 0;
  const args = [
    'worktree',
    'add',
    '--lock',
    '--reason',
    request.lockReason,
    '--no-track',
    ...(sparse ? ['--no-checkout'] : []),
    '-b',
    request.branch,
    '--',
    request.path,
    request.baseSha,
  ];
  const exists = () =>
    new LanevisorError('ALREADY_EXISTS', `branch ${request.branch} already exists; choose another label`, {
      details: { branch: request.branch },
    });
  if (branchRefTaken(repository.commonDir, request.branch)) throw exists();
  let last: GitResult | undefined;
  for (let attempt = 1; attempt <= WORKTREE_ADD_ATTEMPTS; attempt++) {
    await writeMarker(repository, request.branch, request.baseSha);
    try {
      last = await git(args, inRepository(repository));
    } catch (error) {
      await rollBackWorktree(repository, root, request.path, request.branch, request.baseSha);
      throw error;
    }
    if (last.exitCode === 0) {
      if (sparse) await checkOutSparse(repository, root, request);
      return;
    }
    if (branchExistsRefusal(last.stderr, request.branch)) {
      await removeMarker(repository, request.branch, request.baseSha);
      throw exists();
    }
    await rollBackWorktree(repository, root, request.path, request.branch, request.baseSha);
    if (!RETRYABLE_GIT_RACE.test(last.stderr)) break;
    await new Promise((done) => setTimeout(done, 20 * attempt));
  }
  throw gitError(args, last as GitResult);
}

/** Undoes a (partial) `worktree add`: git's record, the directory, the branch it created and its marker. */
export async function rollBackWorktree(
  repository: Repository,
  root: string,
  path: string,
  branch: string,
  start: string,
): Promise<void> {
  await removeWorktree(repository, root, path).catch(() => undefined);
  await git(['branch', '-D', '--', branch], inRepository(repository));
  await removeMarker(repository, branch, start);
}

/**
 * Removes a worktree whatever its state: `remove --force --force` (ours are locked), then, when
 * git still refuses (a killed checkout's `locked initializing` record, a busy file), unlock, move
 * the directory aside, prune git's record and delete the directory. Only ever inside `root`.
 * Verified with `git worktree list` before it returns.
 */
export async function removeWorktree(repository: Repository, root: string, path: string): Promise<void> {
  assertInside(root, path);
  const registered = (await listWorktrees(repository)).some((w) => samePath(w.path, path));
  if (registered) {
    const removed = await git(['worktree', 'remove', '--force', '--force', '--', path], inRepository(repository));
    if (removed.exitCode !== 0) {
      await git(['worktree', 'unlock', '--', path], inRepository(repository));
      const aside = join(root, `${REMOVAL_ASIDE_PREFIX}${basename(path)}-${Date.now()}`);
      await rename(path, aside).catch(() => undefined);
      await git(['worktree', 'prune'], inRepository(repository));
      await rm(aside, { recursive: true, force: true });
    }
  }
  await rm(path, { recursive: true, force: true });
  await git(['worktree', 'prune'], inRepository(repository));
  if ((await listWorktrees(repository)).some((w) => samePath(w.path, path))) {
    throw gitError(['worktree', 'remove', path], {
      stdout: '',
      stderr: 'the worktree is still registered after removal',
      exitCode: 1,
    });
  }
}

function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

/**
 * Whether `path` is a linked worktree git still knows, read from its `.git` file (no git process):
 * the file names git's record of it, and that record exists.
 */
export function isKnownWorktree(path: string): boolean {
  try {
    const pointer = /^gitdir: (.+)$/m.exec(readFileSync(join(path, '.git'), 'utf8'));
    return pointer?.[1] !== undefined && existsSync(pointer[1]);
  } catch {
    return false;
  }
}
