import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { isLanevisorError, LanevisorError } from '../../bus/errors.js';
import { isCorrelationId, isEventId } from '../../bus/ids.js';
import { createBus, LocalBus } from '../../bus/local-bus.js';
import { eventEnvelopeSchema } from '../../bus/schemas.js';
import { settle, sleep, waitUntil } from '../support/wait.js';

function collect(bus = createBus(), pattern = '**') {
  const events: EventEnvelope[] = [];
  const unsubscribe = bus.subscribe(pattern, (event) => {
    events.push(event);
  });
  return { bus, events, unsubscribe };
}

function expectError(fn: () => unknown, code: string, message?: RegExp): LanevisorError {
  try {
    fn();
  } catch (error) {
    expect(isLanevisorError(error)).toBe(true);
    const lanevisorError = error as LanevisorError;
    expect(lanevisorError.code).toBe(code);
    if (message) expect(lanevisorError.message).toMatch(message);
    return lanevisorError;
  }
  throw new Error('expected a LanevisorError');
}

describe('publish', () => {
  it('returns a valid envelope and delivers it asynchronously', async () => {
    const { bus, events } = collect();
    const envelope = bus.publish('agent.note', { text: 'hi' });
    expect(events).toHaveLength(0);
    expect(eventEnvelopeSchema.parse(envelope)).toEqual(envelope);
    expect(envelope).toMatchObject({ type: 'event', topic: 'agent.note', sequence: 1, payload: { text: 'hi' } });
    expect(isEventId(envelope.id)).toBe(true);
    expect(isCorrelationId(envelope.correlationId)).toBe(true);
    expect(Math.abs(envelope.timestamp - Date.now())).toBeLessThan(1_000);
    await settle();
    expect(events).toEqual([envelope]);
  });

  it('numbers each topic on its own, from 1, without gaps', async () => {
    const { bus, events } = collect();
    for (let i = 0; i < 3; i++) {
      bus.publish('a.x', i);
      bus.publish('b.y', i);
    }
    await settle();
    expect(events.map((e) => `${e.topic}#${e.sequence}`)).toEqual([
      'a.x#1',
      'b.y#1',
      'a.x#2',
      'b.y#2',
      'a.x#3',
      'b.y#3',
    ]);
  });

  it('routes exact, one-segment wildcard and match-all patterns', async () => {
    const bus = createBus();
    const exact = collect(bus, 'job.done');
    const children = collect(bus, 'job.*');
    const all = collect(bus, '**');
    for (const topic of ['job.done', 'job.started', 'job', 'job.done.late', 'jobs.done', 'other'])
      bus.publish(topic, null);
    await settle();
    expect(exact.events.map((e) => e.topic)).toEqual(['job.done']);
    expect(children.events.map((e) => e.topic)).toEqual(['job.done', 'job.started']);
    expect(all.events).toHaveLength(6);
  });

  it('rejects bad topics, reserved prefixes, bad correlation ids and bad payloads, naming the field', async () => {
    const { bus, events } = collect();
    const topicCases = ['', 'Upper.case', 'a..b', '.a', 'a.', 'a b', 'a-b', 'x'.repeat(201), 42];
    for (const topic of topicCases) expectError(() => bus.publish(topic as string, null), 'VALIDATION_ERROR', /^topic/);
    for (const topic of ['lane.created', 'pty.output', 'supervisor.restarted', 'runtime.reconciled', 'bus.dropped']) {
      expectError(() => bus.publish(topic, null), 'VALIDATION_ERROR', /reserved to lanevisor/);
    }
    expectError(() => bus.publish('ok', null, { correlationId: '' }), 'VALIDATION_ERROR', /^correlationId/);
    expectError(
      () => bus.publish('ok', null, { correlationId: 'c'.repeat(129) }),
      'VALIDATION_ERROR',
      /^correlationId/,
    );
    const error = expectError(
      () => bus.publish('ok', { deep: { fn: () => 0 } }),
      'VALIDATION_ERROR',
      /^payload\.deep\.fn/,
    );
    expect(error.details).toEqual({ field: 'payload.deep.fn' });
    const circular: { self?: unknown } = {};
    circular.self = circular;
    expectError(() => bus.publish('ok', circular), 'VALIDATION_ERROR', /circular/);
    expectError(() => bus.publish('ok', 'x'.repeat(1024 * 1024)), 'VALIDATION_ERROR', /over the limit/);
    await settle();
    expect(events).toHaveLength(0);
  });

  it('consumes no sequence number on a rejected publish', async () => {
    const { bus, events } = collect();
    bus.publish('t', 1);
    expect(() => bus.publish('t', () => 0)).toThrow();
    expect(() => bus.publish('t', 1, { correlationId: '' })).toThrow();
    bus.publish('t', 2);
    await settle();
    expect(events.map((e) => e.sequence)).toEqual([1, 2]);
  });

  it('honours a configured payload limit', () => {
    const bus = createBus({ maxPayloadBytes: 100 });
    expect(() => bus.publish('t', 'x'.repeat(98))).not.toThrow();
    expectError(
      () => bus.publish('t', 'x'.repeat(99)),
      'VALIDATION_ERROR',
      /101 bytes serialized, over the limit of 100/,
    );
  });

  it('keeps the caller correlation id, else generates one per publish', () => {
    const bus = createBus();
    expect(bus.publish('t', null, { correlationId: 'req-42' }).correlationId).toBe('req-42');
    const a = bus.publish('t', null).correlationId;
    const b = bus.publish('t', null).correlationId;
    expect(a).not.toBe(b);
  });

  it('rejects invalid bus options with INVALID_ARGUMENT', () => {
    expect(() => createBus({ queueLimit: 0 })).toThrow(/options.queueLimit/);
    expect(() => createBus({ maxPayloadBytes: -1 })).toThrow(LanevisorError);
    expect(() => createBus({ requestTimeoutMs: 1.5 })).toThrow(/options.requestTimeoutMs/);
    expect(() => createBus({ nope: 1 } as never)).toThrow(/nope/);
  });
});

describe('lifecycle publishing', () => {
  it('validates lifecycle payloads against the catalog', async () => {
    const bus = new LocalBus();
    const { events } = collect(bus, 'bus.*');
    const payload = {
      subscriptionId: 'sub_0123456789abcdef',
      pattern: '**',
      phase: 'started',
      dropped: 1,
      totalDropped: 1,
      lastTopic: 'x.output',
    } as const;
    bus.publishLifecycle('bus.dropped', payload);
    expectError(
      () => bus.publishLifecycle('bus.dropped', { ...payload, dropped: -1 }),
      'VALIDATION_ERROR',
      /^payload\.dropped/,
    );
    expectError(
      () => bus.publishLifecycle('bus.dropped', { ...payload, extra: 1 } as never),
      'VALIDATION_ERROR',
      /extra/,
    );
    expectError(
      () => bus.publishLifecycle('bus.unknown' as never, {} as never),
      'VALIDATION_ERROR',
      /not in its lifecycle catalog/,
    );
    await settle();
    expect(events.map((e) => e.payload)).toEqual([payload]);
  });
});

describe('subscribers', () => {
  it('deliver in publish order to each subscriber, awaiting an async handler before the next event', async () => {
    const bus = createBus();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    bus.subscribe('t', async (event) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${event.sequence}`);
      await sleep(event.sequence === 1 ? 20 : 1);
      log.push(`end ${event.sequence}`);
      running--;
    });
    for (let i = 0; i < 3; i++) bus.publish('t', i);
    await waitUntil(() => log.length === 6, 'three deliveries');
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(maxRunning).toBe(1);
  });

  it('keep delivering to the others when one throws or rejects, and report it', async () => {
    const bus = createBus();
    const errors: EventEnvelope[] = [];
    const onErrorCalls: Error[] = [];
    bus.subscribe('bus.subscriber_error', (event) => {
      errors.push(event);
    });
    bus.subscribe(
      't',
      () => {
        throw new Error('sync boom');
      },
      { onError: (error) => onErrorCalls.push(error) },
    );
    bus.subscribe('t', async () => {
      throw new Error('async boom');
    });
    const healthy = collect(bus, 't');
    const published = bus.publish('t', 1, { correlationId: 'op-1' });
    bus.publish('t', 2);
    await waitUntil(() => errors.length === 4, 'four subscriber errors');
    expect(healthy.events.map((e) => e.sequence)).toEqual([1, 2]);
    const first = errors.find((e) => (e.payload as { message: string }).message.includes('sync boom'));
    expect(first?.payload).toMatchObject({ pattern: 't', topic: 't', eventId: published.id, code: 'HANDLER_ERROR' });
    expect(first?.correlationId).toBe('op-1');
    expect(errors.filter((e) => (e.payload as { message: string }).message.includes('async boom'))).toHaveLength(2);
    expect(onErrorCalls).toHaveLength(2);
    expect(onErrorCalls[0]).toMatchObject({ code: 'HANDLER_ERROR' });
    expect((onErrorCalls[0] as Error).cause).toBeInstanceOf(Error);
  });

  it('do not report a failure to handle a failure report (no feedback loop)', async () => {
    const bus = createBus();
    let calls = 0;
    bus.subscribe('**', () => {
      calls++;
      throw new Error('always');
    });
    const errors = collect(bus, 'bus.subscriber_error');
    bus.publish('t', 1);
    await settle(5);
    expect(calls).toBe(2); // the event, then its failure report
    expect(errors.events).toHaveLength(1);
  });

  it('stop at once on unsubscribe, queued events included, even from inside a handler', async () => {
    const bus = createBus();
    const seenByB: number[] = [];
    let unsubscribeB = (): void => undefined;
    bus.subscribe('t', (event) => {
      if (event.sequence === 2) unsubscribeB();
    });
    unsubscribeB = bus.subscribe('t', (event) => {
      seenByB.push(event.sequence);
    });
    for (let i = 0; i < 5; i++) bus.publish('t', i);
    await settle();
    // A is drained first (subscription order): B's queue is dropped while it still holds 1..5.
    expect(seenByB).toEqual([]);
    unsubscribeB();
    bus.publish('t', 6);
    await settle();
    expect(seenByB).toEqual([]);
    expect(bus.stats().subscriptions).toHaveLength(1);
  });

  it('self-unsubscribe during delivery stops the rest of the queue', async () => {
    const bus = createBus();
    const seen: number[] = [];
    const unsubscribe = bus.subscribe('t', (event) => {
      seen.push(event.sequence);
      if (event.sequence === 2) unsubscribe();
    });
    for (let i = 0; i < 5; i++) bus.publish('t', i);
    await settle();
    expect(seen).toEqual([1, 2]);
  });

  it('never receive events published before they subscribed, even when subscribing from a handler', async () => {
    const bus = createBus();
    const late: number[] = [];
    bus.subscribe('t', (event) => {
      if (event.sequence === 2) {
        bus.subscribe('t', (lateEvent) => {
          late.push(lateEvent.sequence);
        });
      }
    });
    for (let i = 0; i < 4; i++) bus.publish('t', i);
    await settle();
    expect(late).toEqual([]);
    bus.publish('t', 5);
    await settle();
    expect(late).toEqual([5]);
  });

  it('reject bad patterns, handlers and options with INVALID_ARGUMENT', () => {
    const bus = createBus();
    for (const pattern of ['', 'a.**', '*', 'a.*.b', 'A', 'a*', '*.a', 5]) {
      expectError(() => bus.subscribe(pattern as string, () => undefined), 'INVALID_ARGUMENT', /pattern/);
    }
    expectError(() => bus.subscribe('a', 'nope' as never), 'INVALID_ARGUMENT', /handler/);
    expectError(() => bus.subscribe('a', () => undefined, { queueLimit: 0 }), 'INVALID_ARGUMENT', /queueLimit/);
    expectError(() => bus.subscribe('a', () => undefined, { onError: 3 } as never), 'INVALID_ARGUMENT', /onError/);
  });

  it('run the handler with the event correlation id, so reactions carry it', async () => {
    const bus = createBus();
    bus.subscribe('order.placed', () => {
      bus.publish('order.billed', null);
    });
    const billed = collect(bus, 'order.billed');
    bus.publish('order.placed', null, { correlationId: 'order-7' });
    await settle();
    expect(billed.events[0]?.correlationId).toBe('order-7');
  });

  it('count what they are behind in stats', async () => {
    const bus = createBus();
    bus.subscribe('t', () => undefined, { queueLimit: 50 });
    bus.publish('t', 1);
    bus.publish('t', 2);
    expect(bus.stats()).toMatchObject({ published: 2, topics: 1, handlers: 0 });
    expect(bus.stats().subscriptions[0]).toMatchObject({ pattern: 't', queued: 2, queueLimit: 50, dropped: 0 });
    await settle();
    expect(bus.stats().subscriptions[0]?.queued).toBe(0);
  });
});
