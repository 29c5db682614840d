import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LanevisorError } from '../../bus/errors.js';
import { git, gitError, gitOrThrow } from './git.js';
import { inRepository, type Repository } from './repository.js';
import { listWorktrees } from './worktrees.js';

/**
 * Moving a branch from the commit it was seen at to a new one that descends from it (a merge's
 * result), and nothing else: compare-and-swap on the ref, so a branch that moved meanwhile is
 * refused, never overwritten. Nothing here deletes, resets or force-updates anything.
 *
 * A branch checked out in a worktree (the main one or a linked one) is moved only through that
 * worktree and only when it is clean, its index and files brought along by a two-tree
 * `read-tree -m -u`, which refuses to overwrite any file it does not know (untracked or ignored).
 */
export interface BranchAdvance {
  /** The branch name, without `refs/heads/`. */
  readonly branch: string;
  readonly from: string;
  readonly to: string;
  /** The reflog entry. */
  readonly reason: string;
}

/** How many dirty files a refusal names in its message (all of them are in its details). */
export const DIRTY_FILES_SHOWN = 10;

/** read-tree's refusals, one path each (git 2.39 words them so; porcelain lists paths tab-indented). */
const IN_THE_WAY =
  /^error: (?:Untracked working tree file|Entry) '(.+)' (?:would be overwritten|not uptodate)|^\t(.+)$/gm;

export async function advanceBranch(repository: Repository, advance: BranchAdvance): Promise<void> {
  const ref = `refs/heads/${advance.branch}`;
  refuseIfBusy(repository, advance.branch);
  const holders = (await listWorktrees(repository)).filter((worktree) => worktree.branch === ref);
  if (holders.length > 1) {
    throw new LanevisorError(
      'INVALID_STATE',
      `${advance.branch} is checked out in ${holders.length} worktrees (${holders.map((w) => w.path).join(', ')}); it can be moved in none of them without leaving the others behind`,
      { details: { branch: advance.branch, worktrees: holders.map((w) => w.path) } },
    );
  }
  const holder = holders[0];
  if (holder === undefined) {
    await swapRef(repository, repository.topLevel, ref, advance);
    return;
  }
  if (holder.prunable !== null || !existsSync(holder.path)) {
    throw new LanevisorError(
      'INVALID_STATE',
      `${advance.branch} is checked out in the worktree ${holder.path}, which is missing; run git worktree prune if it is gone for good`,
      { details: { branch: advance.branch, worktree: holder.path } },
    );
  }
  await advanceCheckout(repository, holder.path, ref, advance);
}

async function advanceCheckout(repository: Repository, path: string, ref: string, advance: BranchAdvance) {
  const options = inRepository(repository, path);
  const head = (await gitOrThrow(['rev-parse', '--verify', 'HEAD'], options)).trim();
  if (head !== advance.from) throw moved(advance, head);
  const dirty = await dirtyFiles(repository, path);
  if (dirty.length > 0) {
    const shown = dirty.slice(0, DIRTY_FILES_SHOWN).join(', ');
    const more = dirty.length > DIRTY_FILES_SHOWN ? ` and ${dirty.length - DIRTY_FILES_SHOWN} more` : '';
    throw new LanevisorError(
      'INVALID_STATE',
      `${advance.branch} is checked out in ${path}, which has uncommitted changes: ${shown}${more}; commit or stash them first`,
      { details: { branch: advance.branch, worktree: path, files: dirty } },
    );
  }
  // read-tree trusts the index's stat data: a file touched since (same content) would be refused as changed.
  await git(['update-index', '-q', '--refresh'], options);
  // The worktree first: git checks every path before it writes any, so a refusal changes nothing.
  const forward = await git(['read-tree', '-m', '-u', advance.from, advance.to], options);
  if (forward.exitCode !== 0) {
    const inTheWay = [...forward.stderr.matchAll(IN_THE_WAY)].map((match) => match[1] ?? match[2] ?? '');
    if (inTheWay.length === 0) throw gitError(['read-tree', '-m', '-u'], forward);
    throw new LanevisorError(
      'INVALID_STATE',
      `${advance.branch} is checked out in ${path}, where the merge would overwrite files it does not track or that just changed: ${inTheWay.join(', ')}`,
      { details: { branch: advance.branch, worktree: path, files: inTheWay } },
    );
  }
  try {
    await swapRef(repository, path, ref, advance);
  } catch (error) {
    // The branch moved while the files did: take the files back to what they were (they were clean).
    const back = await git(['read-tree', '-m', '-u', advance.to, advance.from], options);
    if (back.exitCode !== 0) {
      throw new LanevisorError(
        'GIT_ERROR',
        `${advance.branch} moved while ${path} was being updated, and its files could not be put back: they now hold ${advance.to}; nothing is lost (that commit exists), but git status there shows the difference`,
        { cause: error, details: { branch: advance.branch, worktree: path, commit: advance.to, stderr: back.stderr } },
      );
    }
    throw error;
  }
}

/** `update-ref <ref> <to> <from>`: git moves it only if it still names `from`. */
async function swapRef(repository: Repository, cwd: string, ref: string, advance: BranchAdvance): Promise<void> {
  const args = ['update-ref', '-m', advance.reason, ref, advance.to, advance.from];
  const result = await git(args, inRepository(repository, cwd));
  if (result.exitCode === 0) return;
  const now = await git(['rev-parse', '--verify', '--quiet', ref], inRepository(repository));
  if (now.stdout.trim() !== advance.from) throw moved(advance, now.stdout.trim() || null);
  throw gitError(args, result);
}

function moved(advance: BranchAdvance, now: string | null): LanevisorError {
  return new LanevisorError(
    'INVALID_STATE',
    `${advance.branch} moved while merging (it was at ${advance.from}, it is ${now === null ? 'gone' : `at ${now}`}); nothing was changed, merge again`,
    { details: { branch: advance.branch, expected: advance.from, actual: now } },
  );
}

/** Tracked files with staged or unstaged changes. Untracked files are protected by `read-tree` itself. */
async function dirtyFiles(repository: Repository, path: string): Promise<string[]> {
  const status = await gitOrThrow(
    ['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=none'],
    inRepository(repository, path),
  );
  const files: string[] = [];
  const tokens = status.split('\0');
  for (let i = 0; i < tokens.length; i++) {
    const entry = tokens[i] as string;
    if (entry.length < 4) continue;
    files.push(entry.slice(3));
    // A rename or copy names its source in the next token.
    if (entry[0] === 'R' || entry[0] === 'C') i++;
  }
  return files;
}

/**
 * Refuses a branch that a worktree is rebasing or bisecting: git would move it again when that
 * finishes (or refuse to), and the person doing it would find their branch changed under them.
 */
function refuseIfBusy(repository: Repository, branch: string): void {
  const worktreesDir = join(repository.commonDir, 'worktrees');
  const gitDirs = [repository.commonDir];
  if (existsSync(worktreesDir)) for (const name of readdirSync(worktreesDir)) gitDirs.push(join(worktreesDir, name));
  for (const gitDir of gitDirs) {
    const rebasing = ['rebase-merge', 'rebase-apply'].some(
      (dir) => readSmall(join(gitDir, dir, 'head-name')) === `refs/heads/${branch}`,
    );
    const bisecting = readSmall(join(gitDir, 'BISECT_START')) === branch;
    if (rebasing || bisecting) {
      throw new LanevisorError(
        'INVALID_STATE',
        `${branch} is being ${rebasing ? 'rebased' : 'bisected'} (${gitDir}); finish or abort that first`,
        { details: { branch, gitDir } },
      );
    }
  }
}

function readSmall(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
