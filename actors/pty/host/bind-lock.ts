import { createServer, type Server } from 'node:net';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LanevisorError } from '../../../bus/errors.js';

/** How long a starting host waits for another one to finish binding before it gives up. */
export const BIND_LOCK_WAIT_MS = 3_000;
/** How often it tries the lock meanwhile. */
const BIND_LOCK_RETRY_MS = 10;

/**
 * Runs `bind` while no other host of the same socket runs its own. Finding a socket stale,
 * removing it and binding a new one are three steps: two hosts that both found the old socket
 * dead would each remove "it", the second removing the first one's fresh socket, and both would
 * listen, one of them unreachable. On Linux the lock is a socket in the abstract namespace:
 * binding one is atomic and the kernel releases it when its holder dies, so a host killed
 * half-way never leaves a lock behind. Elsewhere there is no such lock and the steps run as they
 * are.
 */
export async function withBindLock<T>(socket: string, bind: () => Promise<T>): Promise<T> {
  if (process.platform !== 'linux') return bind();
  const name = `\0lanevisor-bind-${process.getuid?.() ?? 0}-${basename(socket)}`;
  const lock = await acquire(name);
  try {
    return await bind();
  } finally {
    await new Promise<void>((resolve) => lock.close(() => resolve()));
  }
}

async function acquire(name: string): Promise<Server> {
  const deadline = performance.now() + BIND_LOCK_WAIT_MS;
  for (;;) {
    const lock = createServer();
    const taken = await new Promise<boolean>((resolve, reject) => {
      lock.once('error', (error: NodeJS.ErrnoException) =>
        error.code === 'EADDRINUSE' ? resolve(false) : reject(error),
      );
      lock.listen(name, () => resolve(true));
    });
    if (taken) return lock;
    if (performance.now() >= deadline) {
      throw new LanevisorError(
        'TIMEOUT',
        `another terminal host kept the bind lock of ${name.slice(1)} for ${BIND_LOCK_WAIT_MS} ms; is a process holding it?`,
      );
    }
    await sleep(BIND_LOCK_RETRY_MS);
  }
}
