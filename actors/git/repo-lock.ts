import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { errorMessage, LanevisorError } from '../../bus/errors.js';

/**
 * One lock per repository around every change to git's worktree and branch records (`worktree
 * add/remove/prune`, `branch -D`, `update-ref`): parallel `worktree add` on one repository races
 * inside git. Cross-process through proper-lockfile (a directory next to git's own files, stale
 * after LOCK_STALE_MS if its holder died), and in-process through a queue, so waiters in this
 * process take turns without polling the file.
 */
export const LOCK_STALE_MS = 30_000;
/** Retries of the file lock while another process holds it: about a minute in all. */
const LOCK_RETRIES = { retries: 600, minTimeout: 5, maxTimeout: 100, factor: 1.5 };
const LOCK_NAME = 'lanevisor-git';

const queues = new Map<string, Promise<unknown>>();

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
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(join(commonDir, LOCK_NAME), {
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: LOCK_RETRIES,
      // A lock taken over as stale while we hold it: our git command still runs to its end, and
      // git's own index and ref locks still guard it; there is nothing better to do than go on.
      onCompromised: () => undefined,
    });
  } catch (error) {
    throw new LanevisorError('LOCKED', `another process holds the git lock of ${commonDir}: ${errorMessage(error)}`, {
      details: { commonDir },
    });
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}
