import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { isLanevisorError, LanevisorError } from '../../bus/errors.js';
import { createId } from '../../bus/ids.js';
import { createBus } from '../../bus/local-bus.js';
import { responseEnvelopeSchema } from '../../bus/schemas.js';
import { settle, sleep } from '../support/wait.js';

async function rejection(promise: Promise<unknown>): Promise<LanevisorError> {
  try {
    await promise;
  } catch (error) {
    if (isLanevisorError(error)) return error;
    throw new Error(`expected a LanevisorError, got ${String(error)}`);
  }
  throw new Error('expected a rejection');
}

describe('handle and request', () => {
  it('resolves with the handler result, sync or async', async () => {
    const bus = createBus();
    bus.handle('math.add', (payload) => {
      const { a, b } = payload as { a: number; b: number };
      return a + b;
    });
    bus.handle('math.slow_double', async (payload) => {
      await sleep(5);
      return (payload as number) * 2;
    });
    bus.handle('math.nothing', () => undefined);
    expect(await bus.request('math.add', { a: 2, b: 3 })).toBe(5);
    expect(await bus.request('math.slow_double', 21)).toBe(42);
    expect(await bus.request('math.nothing', null)).toBeNull();
  });

  it('gives the handler the command envelope', async () => {
    const bus = createBus();
    let seen: unknown;
    bus.handle('echo', (_payload, command) => {
      seen = command;
      return null;
    });
    await bus.request('echo', { x: 1 }, { correlationId: 'call-1', timeoutMs: 1000 });
    expect(seen).toMatchObject({
      type: 'command',
      method: 'echo',
      correlationId: 'call-1',
      payload: { x: 1 },
      timeoutMs: 1000,
    });
  });

  it('allows one handler per method; unregistering frees the method', async () => {
    const bus = createBus();
    const unregister = bus.handle('m', () => 1);
    expect(() => bus.handle('m', () => 2)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
    unregister();
    unregister();
    expect((await rejection(bus.request('m', null))).code).toBe('METHOD_NOT_FOUND');
    const unregisterSecond = bus.handle('m', () => 2);
    unregister(); // a stale unregister does not remove the new handler
    expect(await bus.request('m', null)).toBe(2);
    unregisterSecond();
    expect(bus.stats().handlers).toBe(0);
  });

  it('rejects an unknown method with METHOD_NOT_FOUND', async () => {
    const error = await rejection(createBus().request('nobody.home', null));
    expect(error.code).toBe('METHOD_NOT_FOUND');
    expect(error.message).toMatch(/nobody\.home/);
  });

  it('rejects a failing handler with HANDLER_ERROR whose message has no stack and no path', async () => {
    const bus = createBus();
    bus.handle('fails.sync', () => {
      throw new Error('cannot open /home/agent/secret/config.json\n    at Object.<anonymous> (/srv/app/x.js:1:1)');
    });
    bus.handle('fails.async', async () => {
      throw new TypeError(`bad thing in file:///srv/app/handler.js:10:3 and C:\\Users\\me\\x.ts`);
    });
    bus.handle('fails.odd', () => {
      throw { weird: true };
    });
    for (const method of ['fails.sync', 'fails.async', 'fails.odd']) {
      const error = await rejection(bus.request(method, null));
      expect(error.code).toBe('HANDLER_ERROR');
      expect(error.message).toMatch(new RegExp(`^the handler for "${method.replace('.', '\\.')}" failed: `));
      expect(error.message).not.toMatch(/\n|\/home|\/srv|file:|\\Users| at /);
    }
    expect((await rejection(bus.request('fails.sync', null))).message).toMatch(/cannot open <path>/);
  });

  it('passes a LanevisorError from a handler through with its code', async () => {
    const bus = createBus();
    bus.handle('lane.lookup', () => {
      throw new LanevisorError('NOT_FOUND', 'no lane lane_x', { details: { laneId: 'lane_x' } });
    });
    const error = await rejection(bus.request('lane.lookup', null));
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'no lane lane_x', details: { laneId: 'lane_x' } });
  });

  it('rejects with TIMEOUT when the handler is slower than timeoutMs, and ignores its late answer', async () => {
    const bus = createBus();
    let finished = false;
    bus.handle('slow', async () => {
      await sleep(100);
      finished = true;
      return 'late';
    });
    const started = Date.now();
    const error = await rejection(bus.request('slow', null, { timeoutMs: 20 }));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(/within 20 ms/);
    expect(Date.now() - started).toBeLessThan(100);
    await sleep(120);
    expect(finished).toBe(true);
  });

  it('uses the bus default timeout when the call sets none', async () => {
    const bus = createBus({ requestTimeoutMs: 15 });
    bus.handle('never', () => new Promise(() => undefined));
    expect((await rejection(bus.request('never', null))).code).toBe('TIMEOUT');
  });

  it('validates the command before calling a handler', async () => {
    const bus = createBus();
    let called = false;
    bus.handle('m', () => {
      called = true;
    });
    expect((await rejection(bus.request('Bad Method', null))).message).toMatch(/^command\.method/);
    expect((await rejection(bus.request('m', { f: () => 1 }))).message).toMatch(/^command\.payload\.f/);
    expect((await rejection(bus.request('m', null, { timeoutMs: 0 }))).message).toMatch(/^command\.timeoutMs/);
    expect((await rejection(bus.request('m', null, { correlationId: '' }))).message).toMatch(/^command\.correlationId/);
    expect(called).toBe(false);
  });

  it('rejects a result that is not plain JSON with VALIDATION_ERROR', async () => {
    const bus = createBus();
    bus.handle('bad.result', () => ({ when: new Date() }));
    const error = await rejection(bus.request('bad.result', null));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toMatch(/returned an invalid result: result\.when is a Date/);
  });

  it('rejects bad handle() arguments with INVALID_ARGUMENT', () => {
    const bus = createBus();
    expect(() => bus.handle('UPPER', () => 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => bus.handle('ok', 'x' as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('re-entrancy and correlation', () => {
  it('lets a handler publish and request without deadlock, all under the command correlation id', async () => {
    const bus = createBus();
    const events: EventEnvelope[] = [];
    bus.subscribe('work.*', (event) => {
      events.push(event);
    });
    bus.handle('inner', async (payload) => {
      bus.publish('work.inner', payload);
      return bus.currentCorrelationId();
    });
    bus.handle('outer', async () => {
      bus.publish('work.outer', 1);
      const innerCorrelation = await bus.request('inner', 2);
      // A nested call made with no explicit id joins the outer operation.
      return { innerCorrelation, recursive: await bus.request('leaf', null) };
    });
    bus.handle('leaf', () => 'leaf');
    const result = await bus.request('outer', null, { correlationId: 'op-9' });
    expect(result).toEqual({ innerCorrelation: 'op-9', recursive: 'leaf' });
    await settle();
    expect(events.map((e) => [e.topic, e.correlationId])).toEqual([
      ['work.outer', 'op-9'],
      ['work.inner', 'op-9'],
    ]);
  });

  it('keeps concurrent operations apart', async () => {
    const bus = createBus();
    const events: EventEnvelope[] = [];
    bus.subscribe('step.done', (event) => {
      events.push(event);
    });
    bus.handle('op', async (payload) => {
      await sleep(Math.random() * 5);
      bus.publish('step.done', payload);
      await sleep(Math.random() * 5);
      bus.publish('step.done', payload);
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => bus.request('op', i, { correlationId: `op-${i}` })));
    await settle();
    expect(events).toHaveLength(40);
    for (const event of events) expect(event.correlationId).toBe(`op-${event.payload as number}`);
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('an explicit correlation id wins over the current one', async () => {
    const bus = createBus();
    bus.handle('op', () => bus.publish('x.y', null, { correlationId: 'explicit' }).correlationId);
    expect(await bus.request('op', null, { correlationId: 'outer' })).toBe('explicit');
  });

  it('withCorrelation scopes publishes and requests', async () => {
    const bus = createBus();
    bus.handle('who', () => bus.currentCorrelationId());
    const inside = await bus.withCorrelation('scope-1', async () => {
      await sleep(1);
      return [bus.publish('x.y', null).correlationId, await bus.request('who', null)];
    });
    expect(inside).toEqual(['scope-1', 'scope-1']);
    expect(bus.currentCorrelationId()).toBeUndefined();
    expect(() => bus.withCorrelation('', () => 1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('send (envelope level)', () => {
  it('answers a valid command envelope with a valid response envelope', async () => {
    const bus = createBus();
    bus.handle('ping', () => 'pong');
    const command = {
      id: createId('command'),
      type: 'command',
      method: 'ping',
      timestamp: Date.now(),
      correlationId: 'remote-1',
      payload: null,
    };
    const response = await bus.send(command);
    expect(responseEnvelopeSchema.parse(response)).toEqual(response);
    expect(response).toMatchObject({
      type: 'response',
      ok: true,
      result: 'pong',
      commandId: command.id,
      correlationId: 'remote-1',
    });
    const missing = await bus.send({ ...command, id: createId('command'), method: 'absent' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'METHOD_NOT_FOUND' } });
    expect(responseEnvelopeSchema.parse(missing)).toEqual(missing);
  });

  it('rejects a malformed command envelope with VALIDATION_ERROR naming the field', async () => {
    const bus = createBus();
    const base = {
      id: createId('command'),
      type: 'command',
      method: 'm',
      timestamp: 1,
      correlationId: 'c',
      payload: null,
    };
    const cases: [unknown, RegExp][] = [
      [null, /^command/],
      [{ ...base, id: 'evt_0123456789abcdef' }, /^command\.id/],
      [{ ...base, type: 'event' }, /^command\.type/],
      [{ ...base, timestamp: -1 }, /^command\.timestamp/],
      [{ ...base, extra: true }, /extra/],
      [{ ...base, payload: undefined }, /^command\.payload is undefined/],
    ];
    for (const [command, message] of cases) {
      const error = await rejection(bus.send(command));
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.message).toMatch(message);
    }
  });
});
