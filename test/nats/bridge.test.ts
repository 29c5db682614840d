import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope, LaneView, PtyInfo } from '../../index.js';
import { connectNats, connectNatsClient, discoverRuntimes, type NatsClient, type NatsLink } from '../../nats/index.js';
import { gitIn } from '../support/git-repo.js';
import { type NatsServerFixture, startNatsServer } from '../support/nats-server.js';
import { BASH_PTY, createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';
import { waitUntil } from '../support/wait.js';

/** Two runtimes on two temp repositories (two "machines") joined through one real nats-server. */
describe('runtimes joined through NATS JetStream', () => {
  let nats: NatsServerFixture;
  let alpha: RuntimeFixture;
  let beta: RuntimeFixture;
  let links: NatsLink[];
  let client: NatsClient;
  const seen: Array<{ event: EventEnvelope; subject: string; streamSequence: number }> = [];
  let stopLive: () => Promise<void>;

  beforeAll(async () => {
    nats = await startNatsServer();
    alpha = await createRuntimeFixture();
    beta = await createRuntimeFixture();
    links = [await connectNats(alpha.rt, { servers: nats.url }), await connectNats(beta.rt, { servers: nats.url })];
    client = await connectNatsClient({ servers: nats.url });
    const live = await client.events({
      deliver: 'new',
      onEvent: (event, position) => seen.push({ event, ...position }),
    });
    stopLive = live.stop;
  }, 60_000);

  afterAll(async () => {
    await stopLive?.();
    await client?.close();
    for (const link of links ?? []) await link.close();
    await alpha?.dispose();
    await beta?.dispose();
    await nats?.dispose();
  }, 60_000);

  it('discovers both runtimes with their host, repository and pid', async () => {
    const found = await discoverRuntimes({ servers: nats.url });
    const ids = found.map((runtime) => runtime.runtimeId);
    expect(ids).toEqual(expect.arrayContaining([alpha.rt.id, beta.rt.id]));
    const betaFound = found.find((runtime) => runtime.runtimeId === beta.rt.id);
    expect(betaFound).toMatchObject({ repo: beta.rt.repo, pid: process.pid, prefix: 'lanevisor' });
    expect(betaFound?.host.length).toBeGreaterThan(0);
  });

  it('creates a lane on the other runtime, spawns a PTY there, types into it and reads its output', async () => {
    const lane = (await client.request(beta.rt.id, 'lane.create', { label: 'remote-one' })) as LaneView;
    expect(beta.rt.getLane(lane.id)?.label).toBe('remote-one');
    expect(alpha.rt.lanes()).toHaveLength(0);
    expect(gitIn(beta.repo.path, 'branch', '--list', 'lane/*')).toContain('remote-one');

    const pty = (await client.request(beta.rt.id, 'pty.spawn', { laneId: lane.id, options: BASH_PTY })) as PtyInfo;
    const remote = await client.connectRuntime(beta.rt.id);
    let shown = '';
    const attached = await remote.view(
      pty.id,
      { cols: 100, rows: 30 },
      {
        output: (data) => {
          shown += data;
          attached?.shown(data.length);
        },
        redraw: (screen) => {
          shown = screen;
        },
        exited: () => undefined,
        lost: () => undefined,
      },
    );
    attached.write('echo typed-over-$((6*7))-nats\r');
    await waitUntil(() => shown.includes('typed-over-42-nats'), 'the echo through NATS', 10_000);
    expect(beta.rt.getPty(pty.id)?.cols).toBe(100);
    // What the view showed is what the PTY printed, on the other runtime.
    expect(beta.rt.getPty(pty.id)?.scrollback()).toContain('typed-over-42-nats');
    await attached.detach();
    remote.close();

    await client.request(beta.rt.id, 'pty.write', { ptyId: pty.id, data: 'echo by-request-$((2+3))\r' });
    await waitUntil(() => beta.rt.getPty(pty.id)?.scrollback().includes('by-request-5') === true, 'pty.write', 10_000);
  }, 60_000);

  it('delivers the events of both runtimes to one subscriber, with gap-free per-topic sequences', async () => {
    await alpha.rt.createLane({ label: 'local-alpha' });
    for (const link of links) await link.flush(5_000);
    await waitUntil(
      () => seen.some((s) => s.event.topic === 'lane.created' && s.subject.startsWith(`lanevisor.${alpha.rt.id}.`)),
      "alpha's lane.created",
      10_000,
    );
    const runtimes = new Set(seen.map((s) => s.subject.split('.')[1]));
    expect(runtimes).toEqual(new Set([alpha.rt.id, beta.rt.id]));
    const byTopic = new Map<string, number[]>();
    for (const { event, subject } of seen) {
      expect(subject).toBe(`lanevisor.${subject.split('.')[1]}.${event.topic}`);
      const key = `${subject.split('.')[1]} ${event.topic}`;
      byTopic.set(key, [...(byTopic.get(key) ?? []), event.sequence]);
    }
    for (const [key, sequences] of byTopic) {
      const first = sequences[0] as number;
      expect({ key, sequences }).toEqual({ key, sequences: sequences.map((_, i) => first + i) });
    }
    // Each envelope crosses unchanged: the same id, sequence and correlation as on the bus.
    const local = beta.events.find((e) => e.topic === 'lane.created');
    const remote = seen.find((s) => s.event.id === local?.id);
    expect(remote?.event).toEqual(local);
    expect(seen.some((s) => s.event.topic === 'pty.output')).toBe(false);
  }, 30_000);

  it('replays the stored events to a consumer that connects late, from the start or from a sequence', async () => {
    const late: Array<{ event: EventEnvelope; streamSequence: number }> = [];
    const replay = await client.events({
      runtimeId: beta.rt.id,
      onEvent: (event, position) => late.push({ event, streamSequence: position.streamSequence }),
    });
    const betaLive = seen.filter((s) => s.subject.startsWith(`lanevisor.${beta.rt.id}.`));
    await waitUntil(() => late.length >= betaLive.length, 'the replay', 10_000);
    await replay.stop();
    // What the live subscriber saw of beta is what the stream holds, in the same order.
    expect(late.map((l) => l.event.id)).toEqual(betaLive.map((s) => s.event.id));
    expect(late.map((l) => l.event)).toEqual(betaLive.map((s) => s.event));

    const from = late[3] as { streamSequence: number; event: EventEnvelope };
    const resumed: EventEnvelope[] = [];
    const again = await client.events({
      runtimeId: beta.rt.id,
      fromSequence: from.streamSequence,
      onEvent: (e) => resumed.push(e),
    });
    await waitUntil(() => resumed.length >= late.length - 3, 'the replay from a sequence', 10_000);
    await again.stop();
    expect(resumed[0]?.id).toBe(from.event.id);
  }, 30_000);

  it('publishes a user topic the stream cannot bind live, and keeps storing the rest', async () => {
    // Another stream holds these subjects already: ours cannot add them (JetStream refuses overlaps).
    const { connect } = await import('nats');
    const raw = await connect({ servers: `127.0.0.1:${nats.port}` });
    try {
      const jsm = await raw.jetstreamManager();
      await jsm.streams.add({ name: 'SOMEONE_ELSES', subjects: ['lanevisor.*.deploy', 'lanevisor.*.deploy.>'] });
      const live: string[] = [];
      const sub = raw.subscribe(`lanevisor.${alpha.rt.id}.deploy.started`, {
        callback: (_error, msg) => live.push((msg.json() as EventEnvelope).topic),
      });
      await raw.flush();
      alpha.rt.bus.publish('deploy.started', { version: 7 });
      await alpha.rt.createLane({ label: 'after-deploy' });
      const alphaLinks = links[0] as NatsLink;
      await alphaLinks.flush(5_000);
      expect(alphaLinks.stats()).toMatchObject({ buffered: 0, dropped: 0 });
      await waitUntil(() => live.length === 1, 'the live deploy event', 5_000);
      await waitUntil(
        () =>
          seen.some(
            (s) => s.event.topic === 'lane.created' && (s.event.payload as { label?: string }).label === 'after-deploy',
          ),
        'the next lane event, stored',
        10_000,
      );
      sub.unsubscribe();
    } finally {
      await raw.close();
    }
  }, 30_000);

  it('answers bad input with the contract errors and creates nothing', async () => {
    const lanesBefore = beta.rt.lanes().length;
    const branchesBefore = gitIn(beta.repo.path, 'branch', '--list');
    const failure = (method: string, payload: unknown) =>
      client.request(beta.rt.id, method as 'lane.create', payload).then(
        () => {
          throw new Error(`${method} succeeded`);
        },
        (error: { code: string; message: string }) => error,
      );
    expect((await failure('lane.create', { label: 'x', nonsense: true })).code).toBe('VALIDATION_ERROR');
    expect((await failure('lane.create', { label: 42 })).code).toBe('VALIDATION_ERROR');
    for (const label of ['../x', '/etc', 'a b', '-rf']) {
      expect((await failure('lane.create', { label })).code).toBe('INVALID_ARGUMENT');
    }
    expect((await failure('lane.get', { laneId: 'lane_nope' })).code).toBe('NOT_FOUND');
    const unknown = await failure('lane.explode', {});
    expect(unknown.code).toBe('METHOD_NOT_FOUND');
    expect(unknown.message).toContain('lane.create');
    // Garbage on the wire, by a plain NATS client as any program would send it.
    const { connect } = await import('nats');
    const raw = await connect({ servers: `127.0.0.1:${nats.port}` });
    try {
      const reply = await raw.request(`lanevisor.${beta.rt.id}.api.lane.create`, new TextEncoder().encode('{not json'));
      expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_ERROR' },
      });
    } finally {
      await raw.close();
    }
    // A runtime that is not there is UNAVAILABLE at once, not a timeout.
    expect(((await client.request('rt_absent', 'lane.list').catch((error) => error)) as { code: string }).code).toBe(
      'UNAVAILABLE',
    );
    expect(beta.rt.lanes()).toHaveLength(lanesBefore);
    expect(gitIn(beta.repo.path, 'branch', '--list')).toBe(branchesBefore);
  }, 30_000);
});
