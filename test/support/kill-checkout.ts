import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmdlineOf } from './proc-scan.js';

/** The `git worktree add` that creates `worktreePath`, if it runs now. */
function worktreeAddOf(worktreePath: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const cmdline = cmdlineOf(pid);
    if (cmdline.includes('\0worktree\0add\0') && cmdline.includes(`\0${worktreePath}\0`)) return pid;
  }
  return undefined;
}

/** `pid` and every process below it, parents first. */
function treeOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    try {
      const stat = readFileSync(`/proc/${child}/stat`, 'latin1');
      parents.set(child, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
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
