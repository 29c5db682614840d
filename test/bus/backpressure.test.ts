import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { createBus } from '../../bus/local-bus.js';
import { DIAGNOSTIC_QUEUE_RESERVE } from '../../bus/subscription.js';
import { settle, waitUntil } from '../support/wait.js';

/** A subscriber that holds every delivery until released: the slowest consumer possible. */
function stalledSubscriber() {
  const seen: EventEnvelope[] = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    seen,
    handler: async (event: EventEnvelope) => {
      seen.push(event);
      await gate;
    },
    release: () => {
      release();
      gate = Promise.resolve();
    },
  };
}

describe('backpressure', () => {
  it('drops high-volume (.output) events for a lagging subscriber, counts them and reports each episode', async () => {
    const bus = createBus();
    const notices: EventEnvelope[] = [];
    bus.subscribe('bus.dropped', (event) => {
      notices.push(event);
    });
    const slow = stalledSubscriber();
    bus.subscribe('agent.output', slow.handler, { queueLimit: 10 });
    const fast: number[] = [];
    bus.subscribe('agent.output', (event) => {
      fast.push(event.sequence);
    });

    for (let i = 0; i < 100; i++) bus.publish('agent.output', i);
    const stats = bus.stats().subscriptions.find((s) => s.queueLimit === 10);
    expect(stats?.queued).toBeLessThanOrEqual(10);
    expect(stats?.dropped).toBe(90); // delivery is asynchronous: ten wait, the rest are dropped
    await settle();
    expect(fast).toHaveLength(100); // the fast subscriber loses nothing
    expect(notices.map((n) => n.payload)).toEqual([
      expect.objectContaining({ phase: 'started', dropped: 1, totalDropped: 1, lastTopic: 'agent.output' }),
    ]);

    slow.release();
    await waitUntil(() => notices.length === 2, 'the end of the drop episode');
    expect(notices[1]?.payload).toMatchObject({ phase: 'ended', dropped: 90, totalDropped: 90 });
    // Delivered events are the first ones, in order, with no duplicates.
    expect(slow.seen.map((e) => e.sequence)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('disconnects a lagging subscriber with BACKPRESSURE on any other topic, never dropping silently', async () => {
    const bus = createBus();
    const errors: EventEnvelope[] = [];
    bus.subscribe('bus.subscriber_error', (event) => {
      errors.push(event);
    });
    const slow = stalledSubscriber();
    const onError: Error[] = [];
    bus.subscribe('lifecycle_like.step', slow.handler, { queueLimit: 5, onError: (e) => onError.push(e) });
    for (let i = 0; i < 20; i++) bus.publish('lifecycle_like.step', i);
    // Disconnected at once: no more events are taken, and the operators learn it now.
    expect(bus.stats().subscriptions.map((s) => s.pattern)).toEqual(['bus.subscriber_error']);
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.payload).toMatchObject({
      code: 'BACKPRESSURE',
      pattern: 'lifecycle_like.step',
      topic: 'lifecycle_like.step',
    });
    expect(onError).toEqual([]);
    slow.release();
    await waitUntil(() => onError.length === 1, 'the BACKPRESSURE error');
    // The subscriber got the gap-free prefix it had accepted, then the error naming where it ends.
    expect(slow.seen.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(onError[0]).toMatchObject({ code: 'BACKPRESSURE' });
    expect(onError[0]?.message).toMatch(/fell 5 events behind and was disconnected at lifecycle_like.step #6/);
  });

  it('a lagging match-all subscriber is not disconnected by the notice about its own drops', async () => {
    const bus = createBus();
    const slow = stalledSubscriber();
    const onError: Error[] = [];
    bus.subscribe('**', slow.handler, { queueLimit: 10, onError: (e) => onError.push(e) });
    for (let i = 0; i < 1_000; i++) bus.publish('x.output', i);
    expect(onError).toEqual([]);
    slow.release();
    await waitUntil(
      () => slow.seen.some((e) => e.topic === 'bus.dropped' && (e.payload as { phase: string }).phase === 'ended'),
      'the ended notice',
    );
    expect(onError).toEqual([]);
    const notices = slow.seen.filter((e) => e.topic === 'bus.dropped').map((e) => e.payload);
    expect(notices).toEqual([
      expect.objectContaining({ phase: 'started' }),
      expect.objectContaining({ phase: 'ended', dropped: 990 }),
    ]);
  });

  it('bounds a subscriber queue by its limit plus the diagnostic reserve, whatever is published', () => {
    const bus = createBus();
    const slow = stalledSubscriber();
    bus.subscribe('**', slow.handler, { queueLimit: 100 });
    const errors = stalledSubscriber();
    bus.subscribe('bus.subscriber_error', errors.handler, { queueLimit: 100 });
    for (let i = 0; i < 50_000; i++) bus.publish('flood.output', 'x'.repeat(100));
    for (const subscription of bus.stats().subscriptions) {
      expect(subscription.queued).toBeLessThanOrEqual(subscription.queueLimit + DIAGNOSTIC_QUEUE_RESERVE);
    }
    expect(bus.stats().subscriptions.find((s) => s.pattern === '**')?.dropped).toBe(50_000 - 100);
  });

  it('reports the end of an open drop episode when the subscriber unsubscribes', async () => {
    const bus = createBus();
    const notices: EventEnvelope[] = [];
    bus.subscribe('bus.dropped', (event) => {
      notices.push(event);
    });
    const slow = stalledSubscriber();
    const unsubscribe = bus.subscribe('a.output', slow.handler, { queueLimit: 1 });
    for (let i = 0; i < 10; i++) bus.publish('a.output', i);
    unsubscribe();
    unsubscribe(); // idempotent
    await settle();
    expect(notices.map((n) => n.payload)).toEqual([
      expect.objectContaining({ phase: 'started', dropped: 1 }),
      expect.objectContaining({ phase: 'ended', dropped: 9, totalDropped: 9 }),
    ]);
  });

  it('an async subscriber works through a long queue in order, without losing or repeating any event', async () => {
    const bus = createBus();
    const seen: number[] = [];
    bus.subscribe('long.queue', async (event) => {
      seen.push(event.sequence);
      if (event.sequence % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    });
    for (let i = 0; i < 9_000; i++) bus.publish('long.queue', i);
    await waitUntil(() => seen.length === 9_000, 'all deliveries');
    expect(seen).toEqual(Array.from({ length: 9_000 }, (_, i) => i + 1));
  });

  it('unsubscribing a disconnecting subscriber stops the rest of its prefix and its error', async () => {
    const bus = createBus();
    const slow = stalledSubscriber();
    const onError: Error[] = [];
    const unsubscribe = bus.subscribe('steps.step', slow.handler, { queueLimit: 3, onError: (e) => onError.push(e) });
    for (let i = 0; i < 5; i++) bus.publish('steps.step', i);
    await settle();
    expect(slow.seen.map((e) => e.sequence)).toEqual([1]);
    unsubscribe();
    slow.release();
    await settle();
    expect(slow.seen.map((e) => e.sequence)).toEqual([1]);
    expect(onError).toEqual([]);
  });

  it('an onError callback that throws does not break the bus', async () => {
    const bus = createBus();
    const others: number[] = [];
    bus.subscribe(
      'x',
      () => {
        throw new Error('handler');
      },
      {
        onError: () => {
          throw new Error('callback');
        },
      },
    );
    bus.subscribe('x', (event) => {
      others.push(event.sequence);
    });
    bus.publish('x', 1);
    bus.publish('x', 2);
    await settle();
    expect(others).toEqual([1, 2]);
  });
});
