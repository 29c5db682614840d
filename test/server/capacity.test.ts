import { afterEach, describe, expect, it } from 'vitest';
import type { LaneView, PtyInfo } from '../../index.js';
import { MAX_SSE_CLIENTS, MAX_WS_CLIENTS } from '../../server/limits.js';
import { BASH_PTY } from '../support/runtime-fixture.js';
import { postJson, rawRequest, type Served, startServed } from './harness.js';
import { openSse, type SseStream } from './sse-client.js';
import { openViewer, type Viewer } from './ws-client.js';

/** Past MAX_SSE_CLIENTS event streams or MAX_WS_CLIENTS terminal streams: 503 CAPACITY. */
let served: Served | undefined;
const streams: SseStream[] = [];
const viewers: Viewer[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  for (const viewer of viewers.splice(0)) viewer.ws.terminate();
  await served?.dispose();
  served = undefined;
});

describe('the client bounds', () => {
  it('an event stream past the bound is 503 CAPACITY; a closed one frees its place', async () => {
    served = await startServed();
    const url = new URL('/api/events', served.server.url).toString();
    const auth = { authorization: `Bearer ${served.server.token}` };
    for (let i = 0; i < MAX_SSE_CLIENTS; i++) streams.push(await openSse(url, auth));
    const refused = await rawRequest(url, { headers: auth });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error.code).toBe('CAPACITY');
    const closed = streams.pop() as SseStream;
    const gone = new Promise<void>((resolve) => closed.response.on('close', () => resolve()));
    closed.close();
    await gone;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await openSse(url, auth);
    streams.push(again);
    expect(again.status).toBe(200);
  });

  it('a terminal stream past the bound is refused with 503', async () => {
    served = await startServed();
    const lane = (await (await served.api('/api/lanes', postJson({}))).json()) as LaneView;
    const pty = (await (await served.api(`/api/lanes/${lane.id}/ptys`, postJson(BASH_PTY))).json()) as PtyInfo;
    for (let i = 0; i < MAX_WS_CLIENTS; i++) viewers.push(await openViewer(served.server, pty.id));
    await expect(openViewer(served.server, pty.id)).rejects.toThrow(/503/);
  });
});
