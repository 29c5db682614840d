import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repository } from './repository.js';

/**
 * git makes a lock file (`refs/heads/x.lock`, `index.lock`) with O_EXCL and only then registers it
 * for removal on a signal, so a git killed in between leaves the lock behind, and every later
 * git that needs it fails ("Unable to create '….lock': File exists"). After a reconciliation had
 * to kill a dead runtime's git, the locks that git could have left are removed: only in what
 * lanevisor owns (lane branches, its own refs, its lanes' worktree records), and only those
 * older than the kill, so no lock a live git of the user's holds is ever touched.
 */
export async function removeLocksLeftByKilledGit(
  repository: Repository,
  branchPrefix: string,
  laneDirectory: RegExp,
  killedAt: number,
): Promise<string[]> {
  const dirs = [
    join(repository.commonDir, 'refs', 'heads', branchPrefix),
    join(repository.commonDir, 'refs', 'lanevisor'),
  ];
  const admin = join(repository.commonDir, 'worktrees');
  for (const entry of await readdir(admin, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && laneDirectory.test(entry.name)) dirs.push(join(admin, entry.name));
  }
  const removed: string[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.lock'))) {
      const file = join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info === undefined || !info.isFile() || info.mtimeMs > killedAt) continue;
      await rm(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}
