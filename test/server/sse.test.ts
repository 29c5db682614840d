import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../index.js';
import { waitUntil } from '../support/wait.js';
import { rawRequest, type Served, startServed } from './harness.js';
import { openSse, type SseStream } from './sse-client.js';

/** GET /api/events: every bus event with an id, resumable with Last-Event-ID, filtered by topic. */
let served: Served | undefined;
const streams: SseStream[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await served?.dispose();
  served = undefined;
});

async function open(path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const current = served as Served;
  const stream = await openSse(new URL(path, current.server.url).toString(), {
    authorization: `Bearer ${current.server.token}`,
    ...headers,
  });
  streams.push(stream);
  return stream;
}

const ticks = (stream: SseStream) =>
  stream.frames
    .map((frame) => ({ id: frame.id, event: JSON.parse(frame.data) as EventEnvelope }))
    .filter(({ event }) => event.topic === 'test.tick');

describe('the event stream', () => {
  it('after a disconnect, Last-Event-ID brings exactly the missed events in order, then live ones', async () => {
    served = await startServed();
    const { bus } = served.fixture.rt;
    const first = await open('/api/events');
    expect(first.status).toBe(200);
    expect(first.response.headers['content-type']).toMatch(/^text\/event-stream/);
    bus.publish('test.tick', { n: -1 });
    await waitUntil(() => ticks(first).length === 1, 'the first tick');
    const last = ticks(first)[0]?.id as string;
    expect(last).toMatch(/^\d+$/);
    first.close();

    for (let n = 0; n < 100; n++) bus.publish('test.tick', { n });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const resumed = await open('/api/events', { 'last-event-id': last });
    await waitUntil(() => ticks(resumed).length === 100, 'the missed ticks');
    bus.publish('test.tick', { n: 100 });
    await waitUntil(() => ticks(resumed).length === 101, 'the live tick');
    const got = ticks(resumed);
    expect(got.map(({ event }) => (event.payload as { n: number }).n)).toEqual([...Array(101).keys()]);
    const ids = got.map(({ id }) => Number(id));
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as number))).toBe(true);
    expect(ids[0]).toBeGreaterThan(Number(last));

    // The query parameter works as the header does.
    const byQuery = await open(`/api/events?lastEventId=${last}`);
    await waitUntil(() => ticks(byQuery).length === 101, 'the ticks by query');
  });

  it('?topic= filters with the bus pattern grammar', async () => {
    served = await startServed();
    const { bus } = served.fixture.rt;
    const exact = await open('/api/events?topic=test.tick');
    const children = await open('/api/events?topic=test.*');
    bus.publish('test.tick', { n: 1 });
    bus.publish('test.tock', { n: 2 });
    bus.publish('test.tick.deep', { n: 3 });
    bus.publish('other.tick', { n: 4 });
    await waitUntil(() => children.frames.length === 2 && exact.frames.length === 1, 'the filtered events');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const topicsOf = (stream: SseStream) =>
      stream.frames.map((frame) => (JSON.parse(frame.data) as EventEnvelope).topic);
    expect(topicsOf(exact)).toEqual(['test.tick']);
    expect(topicsOf(children)).toEqual(['test.tick', 'test.tock']);
  });

  it('lifecycle events are on the stream; a bad topic or id is 400', async () => {
    served = await startServed();
    const all = await open('/api/events');
    await served.api('/api/lanes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await waitUntil(
      () => all.frames.some((frame) => (JSON.parse(frame.data) as EventEnvelope).topic === 'lane.created'),
      'lane.created',
    );
    const auth = { authorization: `Bearer ${served.server.token}` };
    const bad = await rawRequest(new URL('/api/events?topic=Bad..Topic', served.server.url).toString(), {
      headers: auth,
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('VALIDATION_ERROR');
    const badId = await rawRequest(new URL('/api/events', served.server.url).toString(), {
      headers: { ...auth, 'last-event-id': 'abc' },
    });
    expect(badId.status).toBe(400);
  });

  it('close() ends the open event streams', async () => {
    served = await startServed();
    const stream = await open('/api/events');
    const ended = new Promise<void>((resolve) => stream.response.on('close', () => resolve()));
    await served.server.close();
    await ended;
  });

  it('a client resuming with an id of an earlier server gets everything this one holds, no gap; an id from the future is told to reset', async () => {
    served = await startServed();
    const { bus } = served.fixture.rt;
    const watcher = await open('/api/events');
    bus.publish('test.tick', { n: 0 });
    bus.publish('test.tick', { n: 1 });
    await waitUntil(() => ticks(watcher).length === 2, 'the ticks');
    const firstId = Number(ticks(watcher)[0]?.id);
    // Ids start at the server's start time: far above any a server started earlier gave.
    expect(firstId).toBeGreaterThan((Date.now() - 60_000) * 1000);

    for (const lastEventId of ['0', String(firstId - 5_000_000)]) {
      const resumed = await open(`/api/events?lastEventId=${lastEventId}`);
      await waitUntil(() => ticks(resumed).length === 2, `the held ticks after ${lastEventId}`);
      expect(resumed.frames.some((frame) => frame.event === 'gap')).toBe(false);
    }
    const future = await open(`/api/events?lastEventId=${firstId + 1_000_000}`);
    await waitUntil(() => ticks(future).length === 2, 'everything, after a reset');
    expect(future.frames[0]?.event).toBe('reset');
  });
});
