import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LaneView, PtyInfo } from '../../index.js';
import { BASH_PTY, createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';
import { waitUntil } from '../support/wait.js';
import { postJson, type Served, startServed } from './harness.js';
import { openSse } from './sse-client.js';
import { openViewer } from './ws-client.js';

/** Starting and stopping: close() ends every connection; a host beyond loopback is warned about. */
let served: Served | undefined;
let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await served?.dispose();
  served = undefined;
  await fixture?.dispose();
  fixture = undefined;
});

describe('the server lifecycle', () => {
  it('close() ends keep-alive HTTP, SSE and WebSocket connections and resolves', async () => {
    served = await startServed();
    const { server } = served;
    const lane = (await (await served.api('/api/lanes', postJson({}))).json()) as LaneView;
    const pty = (await (await served.api(`/api/lanes/${lane.id}/ptys`, postJson(BASH_PTY))).json()) as PtyInfo;

    const agent = new Agent({ keepAlive: true });
    const socketClosed = new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        new URL('/api/lanes', server.url),
        { agent, headers: { authorization: `Bearer ${server.token}` } },
        (res) => {
          res.resume();
          res.on('end', () => req.socket?.once('close', () => resolve()));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const sse = await openSse(new URL('/api/events', server.url).toString(), {
      authorization: `Bearer ${server.token}`,
    });
    const sseClosed = new Promise<void>((resolve) => sse.response.on('close', () => resolve()));
    const viewer = await openViewer(server, pty.id);
    await waitUntil(() => viewer.frames.length > 0, 'the snapshot');

    await server.close();
    await Promise.all([socketClosed, sseClosed, viewer.closed]);
    agent.destroy();
    await expect(fetch(server.url)).rejects.toThrow();
    // Closing twice is harmless.
    await server.close();
  });

  it('the runtime shutdown closes the servers it started', async () => {
    fixture = await createRuntimeFixture();
    const server = await fixture.rt.serve({ port: 0 });
    await fixture.rt.shutdown();
    await expect(fetch(new URL('/api/lanes', server.url))).rejects.toThrow();
  });

  it('warns on stderr about a host beyond loopback, without the token', async () => {
    fixture = await createRuntimeFixture();
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    const server = await fixture.rt.serve({ host: '0.0.0.0' });
    vi.restoreAllMocks();
    expect(writes.join('')).toMatch(/warning: serving on 0\.0\.0\.0/);
    expect(writes.join('')).not.toContain(server.token);
    const port = new URL(server.url).port;
    expect(
      (await fetch(`http://127.0.0.1:${port}/api/lanes`, { headers: { authorization: `Bearer ${server.token}` } }))
        .status,
    ).toBe(200);
    await server.close();
  });
});
