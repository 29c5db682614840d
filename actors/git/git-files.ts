import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What git's own files say about branches, read without starting a git process: on the hot
 * paths (a lane's creation, every cleanup's ownership check) a git process costs milliseconds,
 * a file read microseconds. Each reader follows what git itself consults.
 */

/** BISECT_START holds a branch name, or a commit when bisecting began detached. */
const OBJECT_NAME = /^[0-9a-f]{40,64}$/;

/**
 * Whether `refs/heads/<branch>` exists, or a branch below it (`lane/x/y`) or above it (`lane`)
 * would keep git from making it, read from git's files (loose refs and packed-refs) without a
 * process. Used under the repository lock just before a lane's branch is made: the marker is
 * written first, so that a `worktree add -b` killed after git made the branch leaves a branch
 * that is provably lanevisor's.
 */
export function branchRefTaken(commonDir: string, branch: string): boolean {
  const ref = `refs/heads/${branch}`;
  const parts = ref.split('/');
  // A file or directory at the full name is the branch, or branches below it; a file on the way, a branch above.
  if (existsSync(join(commonDir, ref))) return true;
  for (let i = 3; i < parts.length; i++) {
    if (isFile(join(commonDir, ...parts.slice(0, i)))) return true;
  }
  const packed = readText(join(commonDir, 'packed-refs'));
  if (packed === null) return false;
  const lines = `${packed}\n`;
  if (lines.includes(` ${ref}\n`) || lines.includes(` ${ref}/`)) return true;
  for (let i = 3; i < parts.length; i++) if (lines.includes(` ${parts.slice(0, i).join('/')}\n`)) return true;
  return false;
}

/**
 * The branches some worktree has checked out, or is rebasing or bisecting, read from git's own
 * files (what `git branch -d` consults) without starting a git process; worktrees at the paths in
 * `except` are left out.
 */
export function branchesCheckedOut(commonDir: string, except: ReadonlySet<string> = new Set()): Set<string> {
  const gitDirs = [commonDir];
  // No directory: no linked worktrees.
  for (const name of readdirSafe(join(commonDir, 'worktrees'))) {
    const dir = join(commonDir, 'worktrees', name);
    // `gitdir` names the worktree's `.git` file: its directory is the worktree.
    const pointer = readText(join(dir, 'gitdir'));
    if (pointer === null || !except.has(dirname(pointer))) gitDirs.push(dir);
  }
  const branches = new Set<string>();
  for (const dir of gitDirs) {
    // One listing instead of a failed open (and its exception) per file that is not there.
    const present = new Set(readdirSafe(dir));
    for (const file of ['HEAD', 'rebase-merge/head-name', 'rebase-apply/head-name', 'BISECT_START']) {
      const content = present.has(file.split('/', 1)[0] as string) ? readText(join(dir, file)) : null;
      if (content === null) continue;
      const ref = content.startsWith('ref: ') ? content.slice('ref: '.length) : content;
      if (ref.startsWith('refs/heads/')) branches.add(ref);
      else if (file === 'BISECT_START' && ref !== '' && !OBJECT_NAME.test(ref)) branches.add(`refs/heads/${ref}`);
    }
  }
  return branches;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
