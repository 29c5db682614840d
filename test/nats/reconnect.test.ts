import { connect } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../index.js';
import { connectNats, connectNatsClient, type NatsLink } from '../../nats/index.js';
import { type NatsServerFixture, startNatsServer } from '../support/nats-server.js';
import { BASH_PTY, createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';
import { waitUntil } from '../support/wait.js';

/** Every event the stream holds for one runtime, oldest first (a fresh consumer from sequence 1). */
async function storedEvents(url: string, runtimeId: string, atLeast: number): Promise<EventEnvelope[]> {
  const client = await connectNatsClient({ servers: url });
  const events: EventEnvelope[] = [];
  const replay = await client.events({ runtimeId, onEvent: (event) => events.push(event) });
  try {
    await waitUntil(() => events.length >= atLeast, `${atLeast} stored events`, 10_000);
    // Anything more than expected (a duplicate) would come right behind.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await replay.stop();
    await client.close();
  }
  return events;
}

function expectGapFree(events: readonly EventEnvelope[]): void {
  const byTopic = new Map<string, number[]>();
  for (const event of events) byTopic.set(event.topic, [...(byTopic.get(event.topic) ?? []), event.sequence]);
  for (const [topic, sequences] of byTopic) {
    const first = sequences[0] as number;
    expect({ topic, sequences }).toEqual({ topic, sequences: sequences.map((_, i) => first + i) });
  }
}

describe('a runtime whose NATS goes away', () => {
  let nats: NatsServerFixture | undefined;
  let fixture: RuntimeFixture | undefined;
  let link: NatsLink | undefined;
  let other: { fixture: RuntimeFixture; link: NatsLink } | undefined;

  afterEach(async () => {
    await link?.close();
    await other?.link.close();
    await other?.fixture.dispose();
    other = undefined;
    await fixture?.dispose();
    await nats?.dispose();
    link = undefined;
    fixture = undefined;
    nats = undefined;
  }, 60_000);

  it('keeps both runtimes working locally, reconnects by itself, and the events of the outage arrive once', async () => {
    nats = await startNatsServer();
    fixture = await createRuntimeFixture();
    const { rt } = fixture;
    link = await connectNats(rt, { servers: nats.url });
    // A second runtime (another machine) on the same NATS lives through the same outage.
    const second = await createRuntimeFixture();
    other = { fixture: second, link: await connectNats(second.rt, { servers: nats.url }) };
    await rt.createLane({ label: 'before-outage' });
    await second.rt.createLane({ label: 'second-before' });
    await link.flush(5_000);
    await other.link.flush(5_000);
    const publishedBefore = link.stats().published;
    expect(publishedBefore).toBeGreaterThan(0);

    const early = await connectNatsClient({ servers: nats.url });
    await nats.kill();
    await waitUntil(() => link?.stats().connected === false, 'the link to notice', 10_000);
    // A client that was connected refuses a command at once while NATS is away, rather than
    // holding it to run late (once it has noticed: until then a command times out).
    let refusal: { code: string; tookMs: number } | undefined;
    for (let attempt = 0; attempt < 20 && refusal?.code !== 'UNAVAILABLE'; attempt++) {
      const started = Date.now();
      const error = (await early.request(rt.id, 'lane.list', {}, { timeoutMs: 500 }).catch((e) => e)) as {
        code: string;
      };
      refusal = { code: error.code, tookMs: Date.now() - started };
    }
    expect(refusal).toMatchObject({ code: 'UNAVAILABLE' });
    expect(refusal?.tookMs).toBeLessThan(100);
    await early.close();
    // The runtime does not wait for NATS: lanes, PTYs and execs go on.
    const during = await rt.createLane({ label: 'during-outage' });
    const pty = await during.spawnPty(BASH_PTY);
    pty.write('echo still-local\r');
    await waitUntil(() => pty.scrollback().includes('still-local'), 'the PTY', 10_000);
    expect((await during.exec(['git', 'status', '--short'])).exitCode).toBe(0);
    expect(link.stats().buffered).toBeGreaterThan(0);
    await second.rt.createLane({ label: 'second-during' });
    expect(other.link.stats()).toMatchObject({ connected: false });

    await nats.start();
    await waitUntil(
      () => link?.stats().connected === true && link.stats().buffered === 0,
      'the buffer to drain',
      20_000,
    );
    expect(link.stats().dropped).toBe(0);
    const secondLink = other.link;
    await waitUntil(
      () => secondLink.stats().connected && secondLink.stats().buffered === 0,
      'the second buffer',
      20_000,
    );
    const secondExpected = second.events.slice(second.events.findIndex((e) => e.topic === 'lane.created'));
    const secondStored = await storedEvents(nats.url, second.rt.id, secondExpected.length);
    expect(secondStored.map((e) => e.id)).toEqual(secondExpected.map((e) => e.id));
    expectGapFree(secondStored);

    // The fixture records every event but PTY output; the link began before the first lane.
    const expected = fixture.events.slice(fixture.events.findIndex((e) => e.topic === 'lane.created'));
    const stored = await storedEvents(nats.url, rt.id, expected.length);
    const ids = stored.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(expected.map((e) => e.id)));
    expect(
      stored.some((e) => e.topic === 'lane.created' && (e.payload as { label?: string }).label === 'during-outage'),
    ).toBe(true);
    expectGapFree(stored);

    // Remote commands work again, through the same link.
    const client = await connectNatsClient({ servers: nats.url });
    try {
      const lanes = (await client.request(rt.id, 'lane.list')) as Array<{ label: string | null }>;
      expect(lanes.map((lane) => lane.label).sort()).toEqual(['before-outage', 'during-outage']);
    } finally {
      await client.close();
    }
  }, 90_000);

  it('holds at most maxBufferedEvents while away, drops the oldest and says how many once back', async () => {
    nats = await startNatsServer();
    fixture = await createRuntimeFixture();
    const { rt } = fixture;
    link = await connectNats(rt, { servers: nats.url, maxBufferedEvents: 3 });
    await link.flush(5_000);
    await nats.kill();
    await waitUntil(() => link?.stats().connected === false, 'the link to notice', 10_000);
    await rt.createLane({ label: 'overflow' });
    expect(link.stats().buffered).toBeLessThanOrEqual(3);
    expect(link.stats().dropped).toBeGreaterThan(0);
    const dropped = link.stats().dropped;

    await nats.start();
    const watcher = await connect({ servers: `127.0.0.1:${nats.port}` });
    const notices: Array<{ dropped: number; totalDropped: number; runtimeId: string }> = [];
    const sub = watcher.subscribe(`lanevisor.${rt.id}._bridge.dropped`, {
      callback: (_error, msg) => notices.push(msg.json()),
    });
    try {
      await waitUntil(() => link?.stats().buffered === 0 && link.stats().connected, 'the buffer to drain', 20_000);
      // The notice goes out after the buffer is stored; one more event triggers it if it went before we listened.
      await rt.createLane({ label: 'after-overflow' });
      await waitUntil(() => notices.length > 0, 'the drop notice', 10_000);
      expect(notices[0]).toMatchObject({ runtimeId: rt.id, totalDropped: dropped });
    } finally {
      sub.unsubscribe();
      await watcher.close();
    }
  }, 90_000);
});
