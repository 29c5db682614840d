import { setImmediate as nextTurn } from 'node:timers/promises';

/** Lets every queued microtask and the next macrotask turn run: sync deliveries are done after it. */
export async function settle(turns = 2): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn();
}

/** Polls until `condition` holds, failing with `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Holds this process's event loop for `ms` (nothing of it runs meanwhile): what other processes
 * send in that time waits in the socket and arrives in one read.
 */
export function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
