import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { runtimeProcesses } from '../../index.js';

/**
 * What of a repository the demo looks at to leave it as it found it: its refs and worktrees
 * before and after, the labels free in it, the salvage refs the demo made, and what it left.
 */

/** git in `repo`, its output trimmed (throws on failure). */
function gitIn(repo: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** What of the repository the demo must leave as it found it: its refs (with their commits) and worktrees. */
export interface RepoState {
  readonly head: string;
  readonly refs: readonly string[];
  readonly worktrees: readonly string[];
}

export function repoState(repo: string): RepoState {
  const lines = (text: string) => text.split('\n').filter(Boolean);
  return {
    head: headOf(repo),
    refs: lines(gitIn(repo, 'for-each-ref', '--format=%(objectname) %(refname)')),
    worktrees: lines(gitIn(repo, 'worktree', 'list', '--porcelain')).filter((line) => line.startsWith('worktree ')),
  };
}

/** The commit HEAD names; empty in a repository without one yet (creating a lane then says why it cannot). */
function headOf(repo: string): string {
  try {
    return gitIn(repo, 'rev-parse', '--verify', '-q', 'HEAD');
  } catch {
    return '';
  }
}

/** Lines in one list and not the other, marked `+` (new) or `-` (gone). */
export function changedLines(before: readonly string[], after: readonly string[]): string[] {
  const [was, is] = [new Set(before), new Set(after)];
  return [
    ...after.filter((line) => !was.has(line)).map((l) => `+${l}`),
    ...before.filter((line) => !is.has(line)).map((l) => `-${l}`),
  ];
}

/** The demo's labels: each with a suffix when the repository already has that lane branch (or a ref in its way). */
export function freeLabels(repo: string): (label: string) => string {
  const taken = gitIn(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/lane/', 'refs/lanevisor/branches/lane/')
    .split('\n')
    .filter(Boolean)
    .map((ref) => ref.replace(/^refs\/(heads|lanevisor\/branches)\/lane\//, ''));
  const blocked = (label: string) => taken.some((name) => name === label || name.startsWith(`${label}/`));
  return (label) => {
    let candidate = label;
    for (let n = 2; blocked(candidate); n++) candidate = `${label}-${n}`;
    return candidate;
  };
}

/** How many files a worktree's commit holds (what `git ls-files` lists there). */
export function trackedFiles(worktree: string): number {
  return gitIn(worktree, 'ls-tree', '-r', '-z', '--name-only', 'HEAD').split('\0').filter(Boolean).length;
}

/** Deletes the salvage refs the demo's lanes made (new since `before`); returns them. */
export function removeDemoSalvage(repo: string, before: RepoState, laneIds: ReadonlySet<string>): string[] {
  const had = new Set(before.refs);
  const removed: string[] = [];
  for (const line of gitIn(repo, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/lanevisor/salvage/').split(
    '\n',
  )) {
    const [sha = '', ref = ''] = line.split(' ');
    const name = /^refs\/lanevisor\/salvage\/(lane_[a-z0-9]+)(-\d+)?$/.exec(ref)?.[1];
    if (had.has(line) || name === undefined || !laneIds.has(name)) continue;
    gitIn(repo, 'update-ref', '-d', ref, sha);
    removed.push(ref);
  }
  return removed;
}

/** What the demo could have left: worktrees and lane branches (or markers) it made, directories, tagged processes. */
export function leftovers(repo: string, worktreeRoot: string, runtimeId: string, before: RepoState) {
  const now = repoState(repo);
  const worktrees = changedLines(before.worktrees, now.worktrees);
  const lanevisors = (refs: readonly string[]) =>
    refs.filter((line) => / refs\/(heads\/lane|lanevisor\/branches)\//.test(line));
  const branches = changedLines(lanevisors(before.refs), lanevisors(now.refs));
  const directories = readdirSync(worktreeRoot);
  const processes = runtimeProcesses(runtimeId);
  return { worktrees, branches, directories, processes };
}
