import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type EventEnvelope, LanevisorError } from '../../index.js';
import { connectNats, connectNatsClient, discoverRuntimes } from '../../nats/index.js';
import { OutboundQueue } from '../../nats/outbound-queue.js';
import { type NatsServerFixture, startNatsServer } from '../support/nats-server.js';
import { createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LanevisorError);
    return (error as LanevisorError).code;
  }
  throw new Error('it succeeded');
}

describe('connecting to NATS', () => {
  let fixture: RuntimeFixture;
  let secured: NatsServerFixture;
  let plain: NatsServerFixture;

  beforeAll(async () => {
    fixture = await createRuntimeFixture();
    secured = await startNatsServer({ args: ['--user', 'lane', '--pass', 'visor-secret'] });
    plain = await startNatsServer({ jetstream: false });
  }, 60_000);

  afterAll(async () => {
    await fixture?.dispose();
    await secured?.dispose();
    await plain?.dispose();
  }, 60_000);

  it('refuses bad options with INVALID_ARGUMENT naming the key', async () => {
    for (const options of [
      { servers: secured.url, prefix: 'has space' },
      { servers: secured.url, prefix: 'a.>' },
      { servers: 'http://x y' },
      { servers: [] },
      { servers: secured.url, maxBufferedEvents: 0 },
      { servers: secured.url, surprise: true },
    ]) {
      const error = await connectNats(fixture.rt, options as never).catch((e: LanevisorError) => e);
      expect(error).toBeInstanceOf(LanevisorError);
      expect((error as LanevisorError).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('uses NATS authentication: wrong credentials are INVALID_ARGUMENT, right ones connect', async () => {
    expect(await codeOf(connectNats(fixture.rt, { servers: secured.url, user: 'lane', pass: 'wrong' }))).toBe(
      'INVALID_ARGUMENT',
    );
    const link = await connectNats(fixture.rt, { servers: secured.url, user: 'lane', pass: 'visor-secret' });
    try {
      const found = await discoverRuntimes({ servers: secured.url, user: 'lane', pass: 'visor-secret' });
      expect(found.map((runtime) => runtime.runtimeId)).toContain(fixture.rt.id);
    } finally {
      await link.close();
    }
    // Once closed, the runtime has left: discovery no longer lists it.
    const after = await discoverRuntimes({ servers: secured.url, user: 'lane', pass: 'visor-secret' });
    expect(after.map((runtime) => runtime.runtimeId)).not.toContain(fixture.rt.id);
  });

  it('takes credentials in the URL (as the nats command does) and never prints the password', async () => {
    const link = await connectNats(fixture.rt, { servers: `nats://lane:visor-secret@127.0.0.1:${secured.port}` });
    await link.close();
    const refused = await connectNats(fixture.rt, {
      servers: `nats://lane:wrong-secret@127.0.0.1:${secured.port}`,
    }).catch((error: LanevisorError) => error);
    expect((refused as LanevisorError).code).toBe('INVALID_ARGUMENT');
    expect((refused as LanevisorError).message).not.toContain('wrong-secret');
  });

  it('is FORBIDDEN where NATS permissions deny the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanevisor-nats-conf-'));
    const conf = join(dir, 'nats.conf');
    writeFileSync(
      conf,
      `authorization { users: [
        { user: runtime, password: r }
        { user: watcher, password: w, permissions: { publish: { deny: ["lanevisor.*.api.lane.create"] } } }
      ] }\n`,
    );
    const guarded = await startNatsServer({ args: ['-c', conf] });
    const link = await connectNats(fixture.rt, { servers: guarded.url, user: 'runtime', pass: 'r' });
    const client = await connectNatsClient({ servers: guarded.url, user: 'watcher', pass: 'w' });
    try {
      expect(((await client.request(fixture.rt.id, 'lane.list')) as unknown[]).length).toBe(0);
      expect(await codeOf(client.request(fixture.rt.id, 'lane.create', { label: 'denied' }))).toBe('FORBIDDEN');
      expect(fixture.rt.lanes()).toHaveLength(0);
    } finally {
      await client.close();
      await link.close();
      await guarded.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is UNAVAILABLE when no server answers or the server has no JetStream', async () => {
    const closedPort = secured.url;
    await secured.kill();
    try {
      expect(await codeOf(connectNats(fixture.rt, { servers: closedPort }))).toBe('UNAVAILABLE');
      expect(await codeOf(connectNatsClient({ servers: closedPort }))).toBe('UNAVAILABLE');
    } finally {
      await secured.start();
    }
    const error = await connectNats(fixture.rt, { servers: plain.url }).catch((e: LanevisorError) => e);
    expect((error as LanevisorError).code).toBe('UNAVAILABLE');
    expect((error as LanevisorError).message).toContain('-js');
  });
});

describe('the bridge buffer', () => {
  const events = (count: number): EventEnvelope[] => {
    const bus = createBus();
    return Array.from({ length: count }, (_, i) => bus.publish(`test.t${i % 2}`, { i }));
  };

  it('keeps order, puts a failed publish back at the front, and drops the oldest waiting past its bound', () => {
    const [a, b, c, d, e] = events(5) as [EventEnvelope, EventEnvelope, EventEnvelope, EventEnvelope, EventEnvelope];
    const queue = new OutboundQueue(3);
    queue.push(a);
    queue.push(b);
    const batch = queue.take(2);
    expect(batch).toEqual([a, b]);
    queue.push(c);
    // a, b in flight, c waiting: d pushes out c (the oldest waiting), never what is in flight.
    queue.push(d);
    expect(queue.dropped).toBe(1);
    queue.settle(batch, 1);
    // b failed: it goes out again before d.
    expect(queue.take(10)).toEqual([b, d]);
    expect(queue.takeDropReport()).toEqual({ dropped: 1, lastTopic: c.topic });
    expect(queue.takeDropReport()).toBeUndefined();
    queue.push(e);
    expect(queue.size).toBe(3);
  });

  it('drops the newest when everything held is in flight', () => {
    const all = events(3);
    const queue = new OutboundQueue(2);
    queue.push(all[0] as EventEnvelope);
    queue.push(all[1] as EventEnvelope);
    queue.take(2);
    queue.push(all[2] as EventEnvelope);
    expect(queue.dropped).toBe(1);
    expect(queue.size).toBe(2);
  });
});
