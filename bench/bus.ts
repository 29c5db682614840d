import { EventEmitter } from 'node:events';
import { createBus } from '../index.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize, yieldToLoop } from './stats.js';

/** Publishes in bursts below the default queue limit, as a real producer between I/O callbacks. */
const BURST = 1_000;
const THROUGHPUT_GOAL_EVENTS_PER_SEC = 1_000_000;
const REQUEST_P99_GOAL_US = 50;

interface Sink {
  publish(i: number): void;
  delivered(): number;
}

async function pump(sink: Sink, events: number, expectedDeliveries: number): Promise<number> {
  const started = nowNs();
  for (let sent = 0; sent < events; ) {
    const end = Math.min(events, sent + BURST);
    for (; sent < end; sent++) sink.publish(sent);
    await yieldToLoop();
  }
  while (sink.delivered() < expectedDeliveries) await yieldToLoop();
  return elapsedMs(started);
}

function busSink(subscribers: number): Sink {
  const bus = createBus();
  let delivered = 0;
  for (let i = 0; i < subscribers; i++) {
    bus.subscribe('bench.tick', () => {
      delivered++;
    });
  }
  return { publish: (i) => bus.publish('bench.tick', { i }), delivered: () => delivered };
}

/** The raw baseline: Node's EventEmitter, synchronous, no validation, no envelope, no queue. */
function emitterSink(subscribers: number): Sink {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(subscribers + 1);
  let delivered = 0;
  for (let i = 0; i < subscribers; i++) {
    emitter.on('bench.tick', () => {
      delivered++;
    });
  }
  return { publish: (i) => emitter.emit('bench.tick', { i }), delivered: () => delivered };
}

export async function benchThroughput(subscribers: number, events: number): Promise<BenchResult> {
  await pump(busSink(subscribers), Math.min(events, 100_000), Math.min(events, 100_000) * subscribers); // warm-up
  const oursMs = await pump(busSink(subscribers), events, events * subscribers);
  const rawMs = await pump(emitterSink(subscribers), events, events * subscribers);
  const eventsPerSec = (events / oursMs) * 1000;
  return {
    bench: 'bus.publish_deliver',
    subscribers,
    events,
    eventsPerSec: Math.round(eventsPerSec),
    deliveriesPerSec: Math.round(eventsPerSec * subscribers),
    rawEventEmitterEventsPerSec: Math.round((events / rawMs) * 1000),
    ratioToRaw: round(rawMs / oursMs),
    ...(subscribers === 1
      ? { goal: `>= ${THROUGHPUT_GOAL_EVENTS_PER_SEC} events/s`, met: eventsPerSec >= THROUGHPUT_GOAL_EVENTS_PER_SEC }
      : {}),
  };
}

export async function benchRequestLatency(iterations: number): Promise<BenchResult> {
  const bus = createBus();
  bus.handle('bench.echo', (payload) => payload);
  const raw = async (payload: unknown) => payload;
  const measure = async (call: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < Math.min(iterations, 10_000); i++) await call(i); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const started = nowNs();
      await call(i);
      samples.push(Number(nowNs() - started) / 1_000);
    }
    return summarize(samples);
  };
  const ours = await measure((i) => bus.request('bench.echo', { i }));
  const baseline = await measure((i) => raw({ i }));
  return {
    bench: 'bus.request_latency',
    iterations,
    p50Us: round(ours.p50),
    p95Us: round(ours.p95),
    p99Us: round(ours.p99),
    rawAsyncCallP50Us: round(baseline.p50),
    rawAsyncCallP99Us: round(baseline.p99),
    goal: `p99 < ${REQUEST_P99_GOAL_US} us`,
    met: ours.p99 < REQUEST_P99_GOAL_US,
  };
}
