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
