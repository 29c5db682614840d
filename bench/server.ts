import WebSocket from 'ws';
import { createRuntime, type Runtime } from '../index.js';
import { echoRoundTrips, RAW_ECHO_SCRIPT } from './echo.js';
import { makeRepo } from './lanes.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize } from './stats.js';

/**
 * The control API's costs, each against what the same operation costs in process: a REST
 * `GET /api/lanes` against `bus.request('lane.list')`, an event over SSE against a bus
 * subscriber, a keystroke's echo over the WebSocket stream against `pty.write` → `onData`.
 */
const BENCH_TOPIC = 'bench.tick';

async function withServedRuntime<T>(
  lanes: number,
  work: (rt: Runtime, url: string, token: string) => Promise<T>,
): Promise<T> {
  const repo = await makeRepo(200, 'tmpfs');
  const rt = await createRuntime({ repo: repo.repo, pty: { host: 'inline' }, maxLanes: lanes + 10 });
  try {
    for (let i = 0; i < lanes; i++) await rt.createLane({ label: `bench-${i}` });
    const server = await rt.serve();
    try {
      return await work(rt, server.url, server.token);
    } finally {
      await server.close();
    }
  } finally {
    await rt.shutdown({ cleanupLanes: true });
    repo.dispose();
  }
}

export function benchRestLanes(lanes: number, requests: number): Promise<BenchResult> {
  return withServedRuntime(lanes, async (rt, url, token) => {
    const headers = { authorization: `Bearer ${token}` };
    const http: number[] = [];
    const inProcess: number[] = [];
    for (let i = 0; i < requests; i++) {
      let started = nowNs();
      const response = await fetch(new URL('api/lanes', url), { headers });
      const body = (await response.json()) as unknown[];
      if (body.length !== lanes) throw new Error(`GET /api/lanes gave ${body.length} lanes, not ${lanes}`);
      http.push(elapsedMs(started));
      started = nowNs();
      await rt.bus.request('lane.list', {});
      inProcess.push(elapsedMs(started));
    }
    const ours = summarize(http);
    const raw = summarize(inProcess);
    return {
      bench: 'server.rest_lanes',
      lanes,
      requests,
      httpP50Ms: round(ours.p50),
      httpP99Ms: round(ours.p99),
      busP50Ms: round(raw.p50),
      busP99Ms: round(raw.p99),
      p99Ratio: round(ours.p99 / raw.p99),
    };
  });
}

export function benchSseLatency(events: number): Promise<BenchResult> {
  return withServedRuntime(0, async (rt, url, token) => {
    const abort = new AbortController();
    const response = await fetch(new URL(`api/events?topic=${BENCH_TOPIC}`, url), {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    const nextEvent = async (): Promise<void> => {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (block.includes('data:')) return;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        buffered += decoder.decode(value, { stream: true });
      }
    };
    const sse: number[] = [];
    const bus: number[] = [];
    for (let i = 0; i < events; i++) {
      let started = nowNs();
      const arrived = nextEvent();
      rt.bus.publish(BENCH_TOPIC, { i });
      await arrived;
      sse.push(elapsedMs(started));
      started = nowNs();
      await new Promise<void>((resolve) => {
        const off = rt.bus.subscribe(BENCH_TOPIC, () => {
          off();
          resolve();
        });
        rt.bus.publish(BENCH_TOPIC, { i, local: true });
      });
      bus.push(elapsedMs(started));
      // The SSE client sees the in-process one's event too: read it before the next sample.
      await nextEvent();
    }
    abort.abort();
    const ours = summarize(sse);
    const raw = summarize(bus);
    return {
      bench: 'server.sse_latency',
      events,
      sseP50Ms: round(ours.p50),
      sseP99Ms: round(ours.p99),
      busP50Ms: round(raw.p50),
      busP99Ms: round(raw.p99),
      p50Ratio: round(ours.p50 / raw.p50),
    };
  });
}

export function benchWebSocketEcho(trips: number): Promise<BenchResult> {
  return withServedRuntime(1, async (rt, url, token) => {
    const lane = rt.lanes()[0];
    if (lane === undefined) throw new Error('no lane');
    const pty = await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-c', RAW_ECHO_SCRIPT] });
    await new Promise<void>((resolve) => {
      const off = pty.onData(() => {
        if (pty.scrollback().includes('ready')) {
          off();
          resolve();
        }
      });
      if (pty.scrollback().includes('ready')) resolve();
    });
    const socket = new WebSocket(new URL(`api/ptys/${pty.id}/stream`, url.replace(/^http/, 'ws')), {
      headers: { authorization: `Bearer ${token}` },
    });
    const listeners = new Set<(chunk: string) => void>();
    socket.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; data?: string };
      if (frame.type !== 'output' || frame.data === undefined) return;
      socket.send(JSON.stringify({ type: 'ack', chars: frame.data.length }));
      for (const listener of listeners) listener(frame.data);
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const overSocket = await echoRoundTrips(
      (data) => socket.send(JSON.stringify({ type: 'input', data })),
      (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      trips,
    );
    const inProcess = await echoRoundTrips(
      (data) => pty.write(data),
      (listener) => pty.onData(listener),
      trips,
    );
    socket.close();
    await pty.terminate();
    return {
      bench: 'server.ws_echo',
      trips,
      wsP50Ms: round(overSocket.p50),
      wsP99Ms: round(overSocket.p99),
      inProcessP50Ms: round(inProcess.p50),
      inProcessP99Ms: round(inProcess.p99),
      p50Ratio: round(overSocket.p50 / inProcess.p50),
    };
  });
}
