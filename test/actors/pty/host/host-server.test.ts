import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeControl, FrameDecoder, MAX_FRAME_BYTES } from '../../../../actors/pty/host/framing.js';
import {
  ensureSocketDir,
  ensureToken,
  hostPathsOf,
  MAX_SOCKET_PATH_BYTES,
  readToken,
} from '../../../../actors/pty/host/host-paths.js';
import { HOST_PROTOCOL_VERSION } from '../../../../actors/pty/host/host-protocol.js';
import { HELLO_MAX_FRAME_BYTES, HOST_AUTH_TIMEOUT_MS, HostServer } from '../../../../actors/pty/host/host-server.js';
import { nodePtyDriver } from '../../../../actors/pty/node-pty-driver.js';
import { bashPtyRequest, testHostBackend } from '../../../support/host-fixture.js';
import { sleep, waitUntil } from '../../../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A host server in this process, on a temp state directory (so its code is measured too). */
async function inProcessHost() {
  const stateDir = mkdtempSync(join(tmpdir(), 'lanevisor-host-'));
  const paths = hostPathsOf(stateDir);
  const log: string[] = [];
  const server = new HostServer({
    stateDir,
    paths,
    token: ensureToken(paths.tokenFile),
    driver: nodePtyDriver,
    log: (line) => log.push(line),
    onIdle: () => undefined,
    idleExitMs: 60_000,
  });
  expect(await server.listen()).toBe(true);
  cleanups.push(async () => {
    await server.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  return { stateDir, paths, server, log };
}

/** A raw connection, and the frames that come back. */
function rawClient(socketPath: string) {
  const socket: Socket = createConnection(socketPath);
  const decoder = new FrameDecoder();
  const received: unknown[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) if (frame.kind === 1) received.push(frame.message);
  });
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => undefined);
  cleanups.push(() => void socket.destroy());
  return { socket, received, closed: () => closed };
}

/** A hello frame of this protocol (a runtime's says who it is), with the host's token unless told another. */
function helloOf(tokenFile: string, role: 'viewer' | 'runtime', token = readToken(tokenFile)): Buffer {
  const runtime = role === 'runtime' ? { runtimeId: 'rt_padded', lingerMs: 0, graceMs: 1_000 } : {};
  return encodeControl({ t: 'hello', token, version: HOST_PROTOCOL_VERSION, role, ...runtime });
}

const backendFor = (stateDir: string) => testHostBackend(stateDir, cleanups);
const request = (cols = 80) => bashPtyRequest('echo hi from the host; sleep 0.2', cols);

describe('the terminal host server', () => {
  it('refuses a wrong token, a garbage frame and a frame over the limit, and keeps serving the others', async () => {
    const { paths, stateDir, log } = await inProcessHost();
    const wrong = rawClient(paths.socket);
    wrong.socket.write(helloOf(paths.tokenFile, 'viewer', 'f'.repeat(64)));
    await waitUntil(wrong.closed, 'the wrong token to be refused');
    expect(wrong.received).toEqual([{ t: 'refused', reason: 'wrong token' }]);

    const garbage = rawClient(paths.socket);
    garbage.socket.write(Buffer.from([0, 0, 0, 3, 1, 0x7b, 0x7b]));
    await waitUntil(garbage.closed, 'the garbage frame to be refused');

    // Before its hello a connection gets a small bound; after it, the wire's.
    const early = rawClient(paths.socket);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(HELLO_MAX_FRAME_BYTES + 1, 0);
    early.socket.write(header);
    await waitUntil(early.closed, 'the frame too long for a hello to be refused');
    const huge = rawClient(paths.socket);
    huge.socket.write(helloOf(paths.tokenFile, 'viewer'));
    await waitUntil(() => huge.received.length === 1, 'the welcome');
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    huge.socket.write(header);
    await waitUntil(huge.closed, 'the oversized frame to be refused');
    expect(log.filter((line) => line.startsWith('refused a connection'))).toEqual([
      'refused a connection: wrong token',
      'refused a connection: a control frame that is not JSON',
      `refused a connection: a frame of ${HELLO_MAX_FRAME_BYTES + 1} bytes (the most is ${HELLO_MAX_FRAME_BYTES})`,
      `refused a connection: a frame of ${MAX_FRAME_BYTES + 1} bytes (the most is ${MAX_FRAME_BYTES})`,
    ]);

    // Once welcomed, a frame longer than a hello's bound is taken (a request padded to 64 KiB).
    const trusted = rawClient(paths.socket);
    trusted.socket.write(helloOf(paths.tokenFile, 'runtime'));
    await waitUntil(() => trusted.received.length === 1, 'the welcome');
    trusted.socket.write(encodeControl({ t: 'list', id: 1, padding: 'p'.repeat(64 * 1024) }));
    await waitUntil(() => trusted.received.length === 2, 'the list');
    expect(trusted.received[1]).toEqual({ t: 'ptys', id: 1, ptys: [] });

    // Through all that, a proper client is served.
    const backend = backendFor(stateDir);
    let output = '';
    let exited = false;
    await backend.start(request(), {
      data: (chunk) => {
        output += chunk;
      },
      exited: () => {
        exited = true;
      },
      treeGone: () => undefined,
      signaled: () => undefined,
      lost: () => undefined,
    });
    await waitUntil(() => exited, 'the PTY in the host to end');
    expect(output).toContain('hi from the host');
    expect(backend.hostPid).toBe(process.pid);
  });

  it('serves a hello that came in time though its loop was held past the limit (expired timers run before reads)', async () => {
    const { paths, log } = await inProcessHost();
    const client = rawClient(paths.socket);
    await new Promise((resolve) => client.socket.once('connect', resolve));
    // A few turns of the loop, so the host has accepted it and its hello timer runs.
    await sleep(100);
    client.socket.write(helloOf(paths.tokenFile, 'viewer'));
    // The host's loop is this one: held (as a host starved of CPU is) until its hello timer expired.
    const heldUntil = performance.now() + HOST_AUTH_TIMEOUT_MS + 300;
    while (performance.now() < heldUntil);
    await waitUntil(() => client.received.length > 0 || client.closed(), 'an answer to the hello');
    expect(client.received).toEqual([{ t: 'welcome', hostPid: process.pid, version: HOST_PROTOCOL_VERSION }]);
    expect(log.filter((line) => line.includes('did not say hello'))).toEqual([]);
  });

  it('closes a connection that does not say hello in time', async () => {
    const { paths } = await inProcessHost();
    const silent = rawClient(paths.socket);
    await waitUntil(silent.closed, 'the silent connection to be closed', 5_000);
    expect(silent.received).toEqual([]);
  });
});

describe("the host's socket and token", () => {
  it('keeps the socket path short whatever the depth of the state directory', () => {
    const deep = join('/tmp', ...Array.from({ length: 20 }, (_, i) => `a-rather-long-directory-name-${i}`));
    const paths = hostPathsOf(deep);
    expect(Buffer.byteLength(paths.socket)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(paths.tokenFile).toBe(join(deep, 'host.token'));
    expect(() => hostPathsOf(deep, { XDG_RUNTIME_DIR: `/tmp/${'x'.repeat(120)}` })).toThrow(/longer than 107 bytes/);
  });

  it('refuses a socket directory open to others or owned by someone else, as tmux does', () => {
    const base = mkdtempSync(join(tmpdir(), 'lanevisor-sockdir-'));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const dir = join(base, 'lanevisor');
    ensureSocketDir(dir);
    chmodSync(dir, 0o755);
    expect(() => ensureSocketDir(dir)).toThrow(/open to others \(mode 755; it must be 700\)/);
    chmodSync(dir, 0o700);
    chownSync(dir, 54_321, 54_321);
    expect(() => ensureSocketDir(dir)).toThrow(/is owned by uid 54321/);
    const file = join(base, 'not-a-dir');
    writeFileSync(file, '');
    expect(() => ensureSocketDir(file)).toThrow(/is not a directory/);
  });
});
