import { join } from 'node:path';
import { acquireProcessLock } from '../process/process-lock.js';

/** How long another live process may hold the lock before the waiter gives up with LOCKED. */
export const REPO_LOCK_WAIT_MS = 60_000;
export const REPO_LOCK_NAME = 'lanevisor-git.lock';

const queues = new Map<string, Promise<unknown>>();

/**
 * One lock per repository around every change to git's worktree and branch records (`worktree
 * add/remove/prune`, `branch -D`, `update-ref`): parallel `worktree add` on one repository races
 * inside git. Cross-process through a process lock file next to git's own files (taken over at once
 * when its holder died, say a runtime killed during `worktree add`), and in-process through a
 * queue, so waiters in this process take turns without polling the file.
 */
export async function withRepoLock<T>(commonDir: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(commonDir) ?? Promise.resolve();
  const turn = previous.then(
    () => holdFileLock(commonDir, work),
    () => holdFileLock(commonDir, work),
  );
  const tail = turn.catch(() => undefined);
  queues.set(commonDir, tail);
  try {
    return await turn;
  } finally {
    if (queues.get(commonDir) === tail) queues.delete(commonDir);
  }
}

async function holdFileLock<T>(commonDir: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquireProcessLock(join(commonDir, REPO_LOCK_NAME), `lanevisor process ${process.pid}`, {
    waitMs: REPO_LOCK_WAIT_MS,
    what: `the lanevisor git lock of ${commonDir}`,
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
