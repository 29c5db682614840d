import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listPids, readProcStat } from '../../actors/process/proc.js';
import { cmdlineOf } from './proc-scan.js';

/** The `git worktree add` that creates `worktreePath`, if it runs now. */
function worktreeAddOf(worktreePath: string): number | undefined {
  for (const pid of listPids()) {
    const cmdline = cmdlineOf(pid);
    if (cmdline.includes('\0worktree\0add\0') && cmdline.includes(`\0${worktreePath}\0`)) return pid;
  }
  return undefined;
}

/** `pid` and every process below it, parents first. */
function treeOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const child of listPids()) {
    const stat = readProcStat(child);
    if (stat) parents.set(child, stat.ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/**
 * The OOM killer's view of a checkout: once `git worktree add` is writing `firstEntry` into
 * `worktreePath`, it and whatever it started are killed (frozen first, so nothing they start
 * meanwhile escapes). Watches until that happened or `settled()` says the add is over; returns the
 * pids killed.
 */
export async function killCheckoutMidway(
  worktreePath: string,
  firstEntry: string,
  settled: () => boolean,
): Promise<number[]> {
  while (!settled()) {
    const add = worktreeAddOf(worktreePath);
    if (add !== undefined && existsSync(join(worktreePath, firstEntry))) {
      process.kill(add, 'SIGSTOP');
      const tree = treeOf(add);
      for (const pid of tree) process.kill(pid, 'SIGSTOP');
      for (const pid of tree) process.kill(pid, 'SIGKILL');
      return tree;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return [];
}
