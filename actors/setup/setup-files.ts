import { constants } from 'node:fs';
import { copyFile, cp, lstat, mkdir, readlink, realpath, symlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { LanevisorError } from '../../bus/errors.js';

/**
 * `setup.copy` and `setup.symlink`: paths or globs of the main working tree brought into a new
 * lane's worktree, ignored files included (`.env` is the point). Nothing outside the main working
 * tree is ever read: a path whose directories lead out through a symlink is refused, and symlinks
 * inside what is copied are copied as links, never followed. What the worktree already has (a
 * tracked file) is left as it is.
 */
export type SetupFileKind = 'copy' | 'symlink';

export interface SetupFilesResult {
  /** Paths (relative) brought in. */
  readonly done: readonly string[];
  /** Why some were not: no match, already in the worktree, leading outside. */
  readonly warnings: readonly string[];
}

export async function bringIntoWorktree(
  kind: SetupFileKind,
  pattern: string,
  mainTree: string,
  worktree: string,
): Promise<SetupFilesResult> {
  assertRelativeInside(pattern);
  const root = await realpath(mainTree);
  // A plain path is taken as it is (a symlink included); a glob never walks through symlinks, so it matches none.
  const matches = isDynamicPattern(pattern)
    ? await glob(pattern, {
        cwd: root,
        dot: true,
        onlyFiles: false,
        followSymbolicLinks: false,
        expandDirectories: false,
        ignore: ['.git', '.git/**'],
      })
    : (await exists(join(root, pattern))) && pattern.split('/')[0] !== '.git'
      ? [pattern]
      : [];
  if (matches.length === 0)
    return { done: [], warnings: [`${kind} ${pattern}: matches nothing in the main working tree`] };
  const done: string[] = [];
  const warnings: string[] = [];
  // A directory and what is inside it may both match: the directory brings its contents.
  const sorted = [...new Set(matches.map((match) => match.replace(/\/$/, '')))].sort();
  const taken: string[] = [];
  for (const path of sorted) {
    if (taken.some((parent) => path.startsWith(`${parent}/`))) continue;
    const warning = await bringOne(kind, path, root, worktree);
    if (warning === undefined) {
      done.push(path);
      taken.push(path);
    } else warnings.push(`${kind} ${path}: ${warning}`);
  }
  return { done, warnings };
}

/** Brings one path; a warning when it is left alone. */
async function bringOne(
  kind: SetupFileKind,
  path: string,
  root: string,
  worktree: string,
): Promise<string | undefined> {
  const source = join(root, path);
  // Its directories must resolve inside the main working tree (the last component may be a link, copied as one).
  const parent = await realpath(dirname(source));
  if (parent !== root && !parent.startsWith(`${root}${sep}`)) return 'leads outside the main working tree; left alone';
  const target = join(worktree, path);
  if (await exists(target)) return 'the worktree has it already; left as it is';
  await mkdir(dirname(target), { recursive: true });
  if (kind === 'symlink') {
    await symlink(source, target);
    return undefined;
  }
  const info = await lstat(source);
  if (info.isSymbolicLink()) await symlink(await readlink(source), target);
  else if (info.isDirectory())
    await cp(source, target, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
  // Copy-on-write where the filesystem can (btrfs, xfs), a plain copy elsewhere.
  else if (info.isFile()) await copyFile(source, target, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  else return 'is not a file, directory or symlink; left alone';
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** A relative path that stays inside `root`, or INVALID_ARGUMENT (checked again here: the config is not the only caller). */
export function assertRelativeInside(path: string): void {
  if (path.startsWith('/') || relative('/x', join('/x', path)).startsWith('..') || path.split(/[\\/]/).includes('..')) {
    throw new LanevisorError('INVALID_ARGUMENT', `${path}: must be a path inside the main working tree`);
  }
}
