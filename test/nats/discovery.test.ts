import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, connectNatsClient, type RuntimeAnnouncement } from '../../nats/index.js';
import { type NatsServerFixture, startNatsServer } from '../support/nats-server.js';
import { createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';
import { waitUntil } from '../support/wait.js';

const TTL_MS = 800;

describe('watching the runtimes of a NATS', () => {
  let nats: NatsServerFixture;
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    nats = await startNatsServer();
    fixture = await createRuntimeFixture();
  }, 60_000);

  afterAll(async () => {
    await fixture?.dispose();
    await nats?.dispose();
  }, 60_000);

  it('lists a runtime while it announces itself, drops one that vanished after the TTL and one that left at once', async () => {
    const link = await connectNats(fixture.rt, { servers: nats.url });
    const client = await connectNatsClient({ servers: nats.url });
    const changes: Array<{ ids: string[]; at: number }> = [];
    const watch = await client.watchRuntimes({
      ttlMs: TTL_MS,
      onChange: (runtimes) => changes.push({ ids: runtimes.map((r) => r.runtimeId), at: Date.now() }),
    });
    try {
      expect(watch.runtimes().map((r) => r.runtimeId)).toEqual([fixture.rt.id]);
      // A runtime on another machine that announces itself once and is then cut off (no goodbye).
      const raw = await connect({ servers: `127.0.0.1:${nats.port}` });
      const vanishing: RuntimeAnnouncement = {
        runtimeId: 'rt_vanishing',
        host: 'elsewhere',
        repo: '/srv/repo',
        pid: 1,
        startedAt: Date.now(),
        prefix: 'lanevisor',
        lanes: 0,
        announcedAt: Date.now(),
      };
      const publishedAt = Date.now();
      raw.publish('lanevisor._presence.rt_vanishing', JSON.stringify(vanishing));
      await raw.flush();
      await raw.close();
      const has = (change: { ids: string[] }) => change.ids.includes('rt_vanishing');
      await waitUntil(() => changes.some(has), 'the new runtime', 10_000);
      await waitUntil(() => changes.length > 0 && !has(changes.at(-1) as { ids: string[] }), 'the drop', 10_000);
      // Dropped for silence, and not before the TTL had passed since it was last heard.
      const dropped = changes.findLast((change) => !has(change)) as { at: number };
      expect(dropped.at - publishedAt).toBeGreaterThanOrEqual(TTL_MS);
      // A runtime that closes its link says so: a watch with the default 15 s TTL drops it at once.
      const patient = await client.watchRuntimes({ onChange: () => undefined });
      expect(patient.runtimes().map((r) => r.runtimeId)).toEqual([fixture.rt.id]);
      const closedAt = Date.now();
      await link.close();
      await waitUntil(() => patient.runtimes().length === 0, 'the runtime that left', 5_000);
      expect(Date.now() - closedAt).toBeLessThan(5_000);
      patient.stop();
    } finally {
      watch.stop();
      await client.close();
      await link.close();
    }
  }, 30_000);

  it('closes the link by itself when the runtime shuts down, after its last events reached the stream', async () => {
    const leaving = await createRuntimeFixture();
    const link = await connectNats(leaving.rt, { servers: nats.url });
    const client = await connectNatsClient({ servers: nats.url });
    const stored: string[] = [];
    const replay = await client.events({ runtimeId: leaving.rt.id, onEvent: (event) => stored.push(event.topic) });
    try {
      expect((await client.discover()).map((r) => r.runtimeId)).toContain(leaving.rt.id);
      await leaving.dispose();
      await waitUntil(() => stored.includes('runtime.stopped'), 'runtime.stopped in the stream', 10_000);
      expect(stored).toContain('runtime.stopping');
      expect(stored.indexOf('runtime.stopping')).toBeLessThan(stored.indexOf('runtime.stopped'));
      // The link closes right behind its last event: the runtime stops answering discovery.
      let listed = true;
      for (let attempt = 0; attempt < 20 && listed; attempt++) {
        listed = (await client.discover({ waitMs: 200 })).some((r) => r.runtimeId === leaving.rt.id);
      }
      expect(listed).toBe(false);
    } finally {
      await replay.stop();
      await client.close();
      await link.close();
    }
  }, 30_000);

  it('keeps no runtime that leaves while a watch starts (its goodbye comes during discovery)', async () => {
    const link = await connectNats(fixture.rt, { servers: nats.url });
    const client = await connectNatsClient({ servers: nats.url });
    try {
      const starting = client.watchRuntimes({ onChange: () => undefined });
      // Discovery (DISCOVER_WAIT_MS) has had the runtime's answer; the goodbye comes before it ends.
      await new Promise((resolve) => setTimeout(resolve, 150));
      await link.close();
      const watch = await starting;
      // A goodbye read after discovery ended (a stalled loop) still takes it out at once; kept, it would stay 15 s.
      await waitUntil(
        () => !watch.runtimes().some((r) => r.runtimeId === fixture.rt.id),
        'the runtime to be left out',
        2_000,
      );
      watch.stop();
    } finally {
      await client.close();
      await link.close();
    }
  }, 30_000);
});
