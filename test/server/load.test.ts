import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Served, startServed } from './harness.js';
import { openSse, type SseStream } from './sse-client.js';

/**
 * 20 event streams and 20 terminal streams on one flooding PTY for 10 s: memory stays bounded,
 * the server's bus subscription is never closed, and no client sees a gap it was not told about
 * (an SSE `gap` event, a fresh WebSocket snapshot).
 */
const CLIENTS = 20;
const FLOOD_MS = 10_000;
/** What the load may add to this process's RSS (server, runtime and clients together; measured 96 MiB on 2026-12-02). */
const RSS_GROWTH_BOUND_BYTES = 300 * 1024 * 1024;

let served: Served | undefined;
afterEach(async () => {
  await served?.dispose();
  served = undefined;
});

interface Viewer {
  readonly socket: WebSocket;
  /** Numbered lines seen since the last snapshot, checked for gaps as they come. */
  gaps: number;
  snapshots: number;
  lines: number;
}

function watch(url: string, token: string, ptyId: string): Viewer {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}api/ptys/${ptyId}/stream`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const viewer: Viewer = { socket, gaps: 0, snapshots: 0, lines: 0 };
  let last: number | undefined;
  let partial = '';
  socket.on('message', (raw) => {
    const frame = JSON.parse(String(raw)) as { type: string; data?: string };
    if (frame.type === 'snapshot') {
      // Told: what came before is replaced, counting starts again.
      viewer.snapshots++;
      last = undefined;
      partial = '';
      return;
    }
    if (frame.type !== 'output' || frame.data === undefined) return;
    // Acknowledged as it is read, as a page does once xterm has parsed it.
    socket.send(JSON.stringify({ type: 'ack', chars: frame.data.length }));
    const text = partial + frame.data;
    const lines = text.split('\r\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^n (\d+)$/.exec(line);
      if (match === null) continue;
      const n = Number(match[1]);
      if (last !== undefined && n !== last + 1) viewer.gaps++;
      last = n;
      viewer.lines++;
    }
  });
  return viewer;
}

describe('the server under load', () => {
  it('20 SSE clients and 20 terminal streams on a flooding PTY for 10 s', { timeout: 60_000 }, async () => {
    served = await startServed();
    const { rt } = served.fixture;
    const { url, token } = served.server;
    const lane = await rt.createLane({ label: 'flood' });
    const pty = await lane.spawnPty({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', 'i=0; while :; do echo "n $i"; i=$((i+1)); done'],
    });
    const rssBefore = process.memoryUsage().rss;
    const streams: SseStream[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      streams.push(await openSse(`${url}api/events?topic=load.*`, { authorization: `Bearer ${token}` }));
    }
    const viewers = Array.from({ length: CLIENTS }, () => watch(url, token, pty.id));
    let published = 0;
    const ticker = setInterval(() => {
      for (let i = 0; i < 20; i++) rt.bus.publish('load.tick', { n: published++ });
    }, 10);
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    await new Promise((resolve) => setTimeout(resolve, FLOOD_MS));
    clearInterval(ticker);
    clearInterval(sampler);
    await pty.terminate({ graceMs: 200 });
    await expect.poll(() => streams.every((s) => s.frames.length >= published), { timeout: 10_000 }).toBe(true);

    // Every SSE client got every tick in order, ids consecutive (no gap was announced either).
    for (const stream of streams) {
      expect(stream.frames.filter((frame) => frame.event === 'gap')).toEqual([]);
      const ids = stream.frames.map((frame) => Number(frame.id));
      expect(ids.every((id, i) => i === 0 || id === (ids[i - 1] as number) + 1)).toBe(true);
      const ticks = stream.frames
        .slice(0, published)
        .map((frame) => (JSON.parse(frame.data) as { payload: { n: number } }).payload.n);
      expect(ticks).toEqual(Array.from({ length: published }, (_, n) => n));
    }
    // Every terminal viewer saw numbered lines without a gap between its snapshots.
    for (const viewer of viewers) {
      expect(viewer.snapshots).toBeGreaterThanOrEqual(1);
      expect(viewer.lines).toBeGreaterThan(1_000);
      expect(viewer.gaps).toBe(0);
      viewer.socket.close();
    }
    // The bus never closed the server's subscription for backpressure.
    expect(served.fixture.events.filter((event) => event.topic === 'bus.subscriber_error')).toEqual([]);
    rt.bus.publish('load.final', {});
    await expect
      .poll(() => streams.every((s) => s.frames.some((frame) => frame.data.includes('load.final'))))
      .toBe(true);
    for (const stream of streams) stream.close();
    const growth = peakRss - rssBefore;
    expect(growth, `RSS grew by ${Math.round(growth / 1024 / 1024)} MiB`).toBeLessThan(RSS_GROWTH_BOUND_BYTES);
  });
});
