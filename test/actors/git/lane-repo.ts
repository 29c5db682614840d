import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { type Repository, resolveRepository } from '../../../actors/git/repository.js';
import { createTempRepo, gitIn, type TempRepo } from '../../support/git-repo.js';

/** A temp repository with lane worktrees, and what it takes to prove a git operation changed nothing. */
export interface LaneRepo {
  readonly temp: TempRepo;
  readonly repository: Repository;
  /** The main worktree (branch `main` checked out). */
  readonly main: string;
  /** A linked worktree on a new branch `lane/<name>` from `start` (default main). */
  addLane(name: string, start?: string): string;
}

export async function createLaneRepo(files = 10): Promise<LaneRepo> {
  const temp = createTempRepo(files);
  const repository = await resolveRepository(temp.path);
  mkdirSync(join(temp.base, 'lanes'));
  return {
    temp,
    repository,
    main: temp.path,
    addLane(name, start = 'main') {
      const path = join(temp.base, 'lanes', name);
      gitIn(temp.path, 'worktree', 'add', '-q', '-b', `lane/${name}`, path, start);
      return path;
    },
  };
}

/** Writes a file (making its directory) in a worktree. */
export function write(worktree: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(worktree, path)), { recursive: true });
  writeFileSync(join(worktree, path), content);
}

/** Writes files and commits them (`null` deletes), returning the new commit. */
export function commitFiles(worktree: string, message: string, files: Record<string, string | null>): string {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) gitIn(worktree, 'rm', '-q', '--', path);
    else {
      write(worktree, path, content);
      gitIn(worktree, 'add', '--', path);
    }
  }
  gitIn(worktree, 'commit', '-q', '-m', message);
  return gitIn(worktree, 'rev-parse', 'HEAD');
}

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Every file under a directory but `.git` (untracked and ignored ones too), path → hash of its bytes. */
export function fileHashes(root: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === '.git') continue;
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else
        hashes[relative(root, path)] = stat.isSymbolicLink()
          ? `link:${readlinkSync(path)}`
          : sha256(readFileSync(path));
    }
  };
  walk(root);
  return hashes;
}

export interface WorktreeState {
  readonly head: string;
  readonly symbolicHead: string;
  /** The index file's bytes, hashed. */
  readonly indexBytes: string;
  readonly stagedEntries: string;
  readonly files: Record<string, string>;
}

export function worktreeState(worktree: string): WorktreeState {
  const gitDir = gitIn(worktree, 'rev-parse', '--absolute-git-dir');
  return {
    head: gitIn(worktree, 'rev-parse', 'HEAD'),
    symbolicHead: symbolicHead(worktree),
    indexBytes: sha256(readFileSync(join(gitDir, 'index'))),
    stagedEntries: gitIn(worktree, 'ls-files', '--stage'),
    files: fileHashes(worktree),
  };
}

function symbolicHead(worktree: string): string {
  try {
    return gitIn(worktree, 'symbolic-ref', '-q', 'HEAD');
  } catch {
    return '(detached)';
  }
}

/** Every ref of the repository with what it names. */
export function allRefs(repo: string): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const line of gitIn(repo, 'for-each-ref', '--format=%(refname) %(objectname)').split('\n')) {
    const [ref, sha] = line.split(' ');
    if (ref && sha) refs[ref] = sha;
  }
  return refs;
}

/** The whole observable state: refs, and each worktree's HEAD, index and files. */
export function repoState(repo: string, worktrees: readonly string[]) {
  return { refs: allRefs(repo), worktrees: worktrees.map((worktree) => worktreeState(worktree)) };
}

/** `git status --porcelain` of a worktree, untracked files included. */
export function statusOf(worktree: string): string {
  return execFileSync('git', ['status', '--porcelain=v1', '--untracked-files=all'], {
    cwd: worktree,
    encoding: 'utf8',
    env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
  });
}
