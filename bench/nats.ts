import { connect, type NatsConnection } from 'nats';
import { createBus, type Runtime } from '../index.js';
import { connectNats, connectNatsClient } from '../nats/index.js';
import { createRuntime } from '../supervision/runtime/runtime.js';
import { makeRepo } from './lanes.js';
import { startNatsServer } from './nats-server.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize } from './stats.js';

/** The payload of every sample, ours and bare: a lifecycle-sized event. */
const PAYLOAD = { laneId: 'lane_0123456789abcdef', label: 'bench', note: 'x'.repeat(200) };
/** Latency samples are sent one at a time, this far apart, so each is a lone trip and not a queue. */
const LATENCY_GAP_MS = 1;

interface Trip {
  /** Sends sample `i`; the subscriber calls `arrived(i)`. */
  send(i: number): void;
  close(): Promise<void>;
}

/** Sends `samples` one by one (each waits for the last), then `burst` at once; latencies and events/s. */
async function measure(
  open: (arrived: (i: number) => void) => Promise<Trip>,
  samples: number,
  burst: number,
): Promise<{ latency: ReturnType<typeof summarize>; perSecond: number }> {
  const sentAt = new Map<number, bigint>();
  const latencies: number[] = [];
  let received = 0;
  let wake: (() => void) | undefined;
  const trip = await open((i) => {
    received++;
    const at = sentAt.get(i);
    if (at !== undefined) latencies.push(elapsedMs(at));
    wake?.();
  });
  try {
    for (let i = 0; i < samples; i++) {
      const arrivedOne = new Promise<void>((resolve) => {
        wake = resolve;
      });
      sentAt.set(i, nowNs());
      trip.send(i);
      await arrivedOne;
      await new Promise((resolve) => setTimeout(resolve, LATENCY_GAP_MS));
    }
    sentAt.clear();
    const started = nowNs();
    const target = received + burst;
    const all = new Promise<void>((resolve) => {
      wake = () => received >= target && resolve();
    });
    for (let i = 0; i < burst; i++) trip.send(samples + i);
    await all;
    return { latency: summarize(latencies), perSecond: burst / (elapsedMs(started) / 1000) };
  } finally {
    await trip.close();
  }
}

/**
 * An event published on a runtime's bus → a subscriber on another NATS connection (through the
 * bridge, JetStream-acknowledged), against a bare core publish/subscribe and a bare JetStream
 * publish of the same payload in the same run.
 */
export async function benchNatsEvents(samples: number, burst: number): Promise<BenchResult> {
  const nats = await startNatsServer();
  const { repo, dispose } = await makeRepo(20, 'tmpfs');
  const rt = await createRuntime({ repo, bus: createBus({ queueLimit: 1_000_000 }), pty: { host: 'inline' } });
  const link = await connectNats(rt, { servers: nats.url, maxBufferedEvents: burst * 2 });
  const subscriber = await connect({ servers: nats.url.replace('nats://', '') });
  const publisher = await connect({ servers: nats.url.replace('nats://', '') });
  try {
    const ours = await measure(
      async (arrived) => {
        const sub = subscriber.subscribe(`lanevisor.${rt.id}.bench.event`, {
          callback: (_error, msg) => arrived((msg.json() as { payload: { i: number } }).payload.i),
        });
        await subscriber.flush();
        return {
          send: (i) => rt.bus.publish('bench.event', { ...PAYLOAD, i }),
          close: async () => sub.unsubscribe(),
        };
      },
      samples,
      burst,
    );
    const bare = await measure(
      (arrived) => bareTrip(subscriber, publisher, 'bare.core', arrived, false),
      samples,
      burst,
    );
    const bareJs = await measure(
      (arrived) => bareTrip(subscriber, publisher, `lanevisor.${rt.id}.bench.bare`, arrived, true),
      samples,
      burst,
    );
    return {
      bench: 'nats.event_to_remote_subscriber',
      samples,
      burst,
      oursP50Ms: round(ours.latency.p50),
      oursP99Ms: round(ours.latency.p99),
      oursEventsPerSecond: Math.round(ours.perSecond),
      bareCoreP50Ms: round(bare.latency.p50),
      bareCoreP99Ms: round(bare.latency.p99),
      bareCoreEventsPerSecond: Math.round(bare.perSecond),
      bareJetStreamP50Ms: round(bareJs.latency.p50),
      bareJetStreamP99Ms: round(bareJs.latency.p99),
      bareJetStreamEventsPerSecond: Math.round(bareJs.perSecond),
      p50RatioToCore: round(ours.latency.p50 / bare.latency.p50),
      p99RatioToCore: round(ours.latency.p99 / bare.latency.p99),
      throughputRatioToCore: round(ours.perSecond / bare.perSecond),
      p50RatioToJetStream: round(ours.latency.p50 / bareJs.latency.p50),
      throughputRatioToJetStream: round(ours.perSecond / bareJs.perSecond),
      dropped: link.stats().dropped,
    };
  } finally {
    await subscriber.close();
    await publisher.close();
    await link.close();
    await rt.shutdown({ cleanupLanes: true });
    dispose();
    await nats.dispose();
  }
}

/** The same payload, bare: a core publish, or a JetStream publish (acknowledged, into the stream). */
async function bareTrip(
  subscriber: NatsConnection,
  publisher: NatsConnection,
  subject: string,
  arrived: (i: number) => void,
  jetstream: boolean,
): Promise<Trip> {
  const sub = subscriber.subscribe(subject, { callback: (_error, msg) => arrived((msg.json() as { i: number }).i) });
  await subscriber.flush();
  const js = publisher.jetstream();
  return {
    send: (i) => {
      const data = JSON.stringify({ ...PAYLOAD, i });
      if (jetstream) void js.publish(subject, data);
      else publisher.publish(subject, data);
    },
    close: async () => sub.unsubscribe(),
  };
}

/** `createLane` asked of a runtime through NATS against the same call in its own process. */
export async function benchNatsCreateLane(samples: number): Promise<BenchResult> {
  const nats = await startNatsServer();
  const { repo, dispose } = await makeRepo(2_000, 'tmpfs');
  const rt: Runtime = await createRuntime({ repo, pty: { host: 'inline' } });
  const link = await connectNats(rt, { servers: nats.url });
  const client = await connectNatsClient({ servers: nats.url });
  const local: number[] = [];
  const remote: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      // Alternating, so that each follows the other's cleanup equally often.
      for (const side of i % 2 === 0 ? (['local', 'remote'] as const) : (['remote', 'local'] as const)) {
        const started = nowNs();
        const laneId =
          side === 'local'
            ? (await rt.createLane()).id
            : ((await client.request(rt.id, 'lane.create', {})) as { id: string }).id;
        (side === 'local' ? local : remote).push(elapsedMs(started));
        await rt.getLane(laneId)?.cleanup({ discard: true });
      }
    }
    const ours = summarize(remote);
    const base = summarize(local);
    return {
      bench: 'nats.create_lane',
      samples,
      remoteP50Ms: round(ours.p50, 1),
      remoteP95Ms: round(ours.p95, 1),
      localP50Ms: round(base.p50, 1),
      localP95Ms: round(base.p95, 1),
      p50Ratio: round(ours.p50 / base.p50),
      p95Ratio: round(ours.p95 / base.p95),
    };
  } finally {
    await client.close();
    await link.close();
    await rt.shutdown({ cleanupLanes: true });
    dispose();
    await nats.dispose();
  }
}
