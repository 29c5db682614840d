import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitOrThrow } from './git.js';
import { inRepository, type Repository, resolveCommit } from './repository.js';

/**
 * What a lane changed against its base: its commits and everything not yet committed (staged,
 * unstaged, untracked but not ignored), as one diff from the base commit to the worktree's files.
 */
export type DiffStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'type-changed';

export interface DiffFile {
  /** The path now (a deleted file's old path). */
  readonly path: string;
  /** Where a renamed file came from. */
  readonly oldPath?: string;
  readonly status: DiffStatus;
  /** Lines added and removed; null for a binary file. */
  readonly additions: number | null;
  readonly deletions: number | null;
  readonly binary: boolean;
}

export interface LaneDiff {
  /** The full id of the commit the diff is against. */
  readonly base: string;
  readonly files: readonly DiffFile[];
  /** A unified diff; a binary file shows as "Binary files … differ", never its bytes. */
  readonly patch: string;
}

/** The temporary index a diff builds its tree in; removed when the diff is done. */
export const DIFF_SCRATCH_PREFIX = 'lanevisor-diff-';

const STATUS_OF_LETTER: Readonly<Record<string, DiffStatus>> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  T: 'type-changed',
};

/**
 * The diff from `baseSha` to the worktree's full state. The worktree's own index, files and refs are
 * left exactly as they are (an agent may be working in it): its state is snapshotted through a copy
 * of its index, and only objects are written. The diff itself is plumbing (`diff-tree`), which
 * reads none of the user's diff settings (colour, external tools, prefixes), so its output can be parsed.
 */
export async function laneDiff(repository: Repository, worktreePath: string, baseSha: string): Promise<LaneDiff> {
  const base = await resolveCommit(repository, baseSha);
  const tree = await worktreeTree(repository, worktreePath);
  const options = inRepository(repository, worktreePath);
  const diff = ['diff-tree', '-r', '--no-commit-id', '-M', '--no-textconv', '--no-ext-diff'];
  const [summary, patch] = await Promise.all([
    gitOrThrow([...diff, '--raw', '--numstat', '-z', base, tree], options),
    gitOrThrow([...diff, '-p', base, tree], options),
  ]);
  // git ends a patch with a newline, which the runner strips; without it the last line is not a line to `git apply`.
  return { base, files: parseSummary(summary), patch: patch === '' ? '' : `${patch}\n` };
}

/**
 * The tree of everything in the worktree that `git add -A` would take, built in a copy of its index
 * (starting from it, `add` hashes only what changed since the index last saw the files).
 */
async function worktreeTree(repository: Repository, worktreePath: string): Promise<string> {
  const gitDir = (await gitOrThrow(['rev-parse', '--absolute-git-dir'], inRepository(repository, worktreePath))).trim();
  const scratch = await mkdtemp(join(tmpdir(), DIFF_SCRATCH_PREFIX));
  const index = join(scratch, 'index');
  try {
    // No index yet (nothing ever added): an empty one does.
    await copyFile(join(gitDir, 'index'), index).catch(() => undefined);
    const options = inRepository(repository, worktreePath, { GIT_INDEX_FILE: index });
    await gitOrThrow(['add', '--all', '--', '.'], options);
    return (await gitOrThrow(['write-tree'], options)).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * `--raw --numstat -z`: every raw entry (`:modes ids STATUS\0path\0[new path\0]`), then every
 * numstat entry in the same order (`added\tdeleted\tpath\0`, or `added\tdeleted\t\0old\0new\0`
 * for a rename; `-\t-\t` for a binary file).
 */
export function parseSummary(output: string): DiffFile[] {
  const tokens = output.split('\0');
  const raw: Array<{ status: DiffStatus; path: string; oldPath?: string }> = [];
  let i = 0;
  while (i < tokens.length && (tokens[i] as string).startsWith(':')) {
    const letter = (tokens[i] as string).split(' ')[4]?.charAt(0) ?? '';
    const status = STATUS_OF_LETTER[letter] ?? 'modified';
    if (letter === 'R' || letter === 'C') {
      raw.push({ status, oldPath: tokens[i + 1] as string, path: tokens[i + 2] as string });
      i += 3;
    } else {
      raw.push({ status, path: tokens[i + 1] as string });
      i += 2;
    }
  }
  const files: DiffFile[] = [];
  for (const entry of raw) {
    const [added = '', deleted = '', inline = ''] = (tokens[i] ?? '').split('\t');
    // A rename's numstat names its paths in the next two tokens instead of inline.
    i += inline === '' && entry.oldPath !== undefined ? 3 : 1;
    const binary = added === '-' && deleted === '-';
    files.push({
      ...entry,
      additions: binary ? null : Number(added),
      deletions: binary ? null : Number(deleted),
      binary,
    });
  }
  return files;
}
