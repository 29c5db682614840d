import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../index.js';
import { waitUntil } from '../support/wait.js';
import { type Served, startServed } from './harness.js';
import { openSse } from './sse-client.js';

/** A slow SSE client is cut off once its socket's unsent bytes pass the bound, and may resume by id. */
let served: Served | undefined;
afterEach(async () => {
  await served?.dispose();
  served = undefined;
});

describe('a slow event stream', () => {
  it('is cut off instead of buffered without bound; it resumes with Last-Event-ID', async () => {
    served = await startServed();
    const { bus } = served.fixture.rt;
    const url = new URL('/api/events?topic=test.big', served.server.url).toString();
    const auth = { authorization: `Bearer ${served.server.token}` };
    const slow = await openSse(url, auth);
    // Reads nothing more: the server's writes pile up in its socket.
    slow.response.pause();
    let ended = false;
    slow.response.on('close', () => {
      ended = true;
    });
    const EVENTS = 60;
    const blob = 'x'.repeat(512 * 1024);
    for (let n = 0; n < EVENTS; n++) {
      bus.publish('test.big', { n, blob });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Reading again, it gets what was in flight when the server cut it off, then the end.
    slow.response.resume();
    await waitUntil(() => ended, 'the slow client cut off', 10_000);
    expect(slow.frames.length).toBeLessThan(EVENTS);

    // A fresh client resumes from the start of what the server holds: nothing was lost for it.
    const resumed = await openSse(url, { ...auth, 'last-event-id': '0' });
    await waitUntil(() => resumed.frames.length >= 2, 'the held events');
    const first = JSON.parse(resumed.frames[0]?.data as string) as EventEnvelope;
    expect((first.payload as { n: number }).n).toBe(0);
    resumed.close();
  });
});
