import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeControl, FrameDecoder, FrameKind } from '../../../../actors/pty/host/framing.js';
import { OTHER_PROTOCOL_EXIT_WAIT_MS } from '../../../../actors/pty/host/host-client.js';
import { ensureSocketDir, ensureToken, hostPathsOf } from '../../../../actors/pty/host/host-paths.js';
import { HOST_PROTOCOL_VERSION, type HostRefusal } from '../../../../actors/pty/host/host-protocol.js';
import { refusalError } from '../../../../actors/pty/host/host-refusal.js';
import { HostServer } from '../../../../actors/pty/host/host-server.js';
import { HostViewer } from '../../../../actors/pty/host/host-viewer.js';
import { nodePtyDriver } from '../../../../actors/pty/node-pty-driver.js';
import { LanevisorError } from '../../../../bus/errors.js';
import { createRuntime } from '../../../../supervision/runtime/runtime.js';
import { createTempRepo } from '../../../support/git-repo.js';
import { bashPtyRequest, IGNORED_SESSION_EVENTS, testHostBackend } from '../../../support/host-fixture.js';
import { isAlive } from '../../../support/proc-scan.js';
import { waitUntil } from '../../../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function stateDirForTest(): string {
  const stateDir = mkdtempSync(join(tmpdir(), 'lanevisor-refusal-'));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  return stateDir;
}

const backendFor = (stateDir: string) => testHostBackend(stateDir, cleanups);

/**
 * What a host of another lanevisor version does on this state directory's socket, on the wire
 * every version shares (framing, hello, refused): it refuses every hello with `refusal`. A host
 * of an older protocol cannot be run here, so this stands in for it; `stop()` is its idle exit.
 */
async function otherVersionHost(stateDir: string, refusal: HostRefusal) {
  const paths = hostPathsOf(stateDir);
  ensureSocketDir(paths.socketDir);
  ensureToken(paths.tokenFile);
  const hellos: unknown[] = [];
  const server: Server = createServer((socket: Socket) => {
    const decoder = new FrameDecoder();
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind !== FrameKind.CONTROL) continue;
        hellos.push(frame.message);
        socket.end(encodeControl(refusal));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(paths.socket, resolve));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(stop);
  return { paths, hellos, stop };
}

const OLD_REFUSAL: HostRefusal = { t: 'refused', reason: `protocol ${HOST_PROTOCOL_VERSION} is not 1` };

async function refusalOf(promise: Promise<unknown>): Promise<LanevisorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LanevisorError);
  return error as LanevisorError;
}

describe('a terminal host of another protocol', () => {
  it('says its protocol, pid and the PTYs it holds to a client with the token, and goes on serving', async () => {
    const stateDir = stateDirForTest();
    const paths = hostPathsOf(stateDir);
    const token = ensureToken(paths.tokenFile);
    const server = new HostServer({
      stateDir,
      paths,
      token,
      driver: nodePtyDriver,
      log: () => undefined,
      onIdle: () => undefined,
      idleExitMs: 60_000,
    });
    expect(await server.listen()).toBe(true);
    cleanups.push(() => server.close());
    const backend = backendFor(stateDir);
    await backend.start(bashPtyRequest('sleep 30'), IGNORED_SESSION_EVENTS);

    const socket = createConnection(paths.socket);
    cleanups.push(() => void socket.destroy());
    const decoder = new FrameDecoder();
    const received: unknown[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) if (frame.kind === FrameKind.CONTROL) received.push(frame.message);
    });
    socket.write(encodeControl({ t: 'hello', token, version: 1, role: 'runtime', runtimeId: 'rt_old00000000000' }));
    await waitUntil(() => received.length > 0, 'the refusal');
    expect(received).toEqual([
      {
        t: 'refused',
        reason: `protocol 1 is not ${HOST_PROTOCOL_VERSION}`,
        version: HOST_PROTOCOL_VERSION,
        hostPid: process.pid,
        heldPtys: 1,
      },
    ]);
    expect((await backend.list()).map((pty) => pty.exit)).toEqual([null]);
  });

  it('holding nothing, is waited for until it exits, and then a host of this version starts', async () => {
    const stateDir = stateDirForTest();
    const old = await otherVersionHost(stateDir, OLD_REFUSAL);
    const backend = backendFor(stateDir);
    const connected = backend.connect();
    await waitUntil(() => old.hellos.length > 0, 'the runtime to try the old host');
    setTimeout(() => void old.stop(), 500);
    await connected;
    const hostPid = backend.hostPid as number;
    expect(hostPid).not.toBe(process.pid);
    expect(isAlive(hostPid)).toBe(true);
    expect(old.hellos).toEqual([
      expect.objectContaining({ t: 'hello', version: HOST_PROTOCOL_VERSION, role: 'runtime' }),
    ]);
  });

  it('holding terminals, refuses the runtime at once with what to do, and the runtime starts no host of its own', async () => {
    const stateDir = stateDirForTest();
    const old = await otherVersionHost(stateDir, {
      t: 'refused',
      reason: `protocol ${HOST_PROTOCOL_VERSION} is not ${HOST_PROTOCOL_VERSION + 1}`,
      version: HOST_PROTOCOL_VERSION + 1,
      hostPid: 4242,
      heldPtys: 3,
    });
    const backend = backendFor(stateDir);
    const started = performance.now();
    const error = await refusalOf(backend.connect());
    // Not the wait for a host that holds nothing: its terminals keep it.
    expect(performance.now() - started).toBeLessThan(OTHER_PROTOCOL_EXIT_WAIT_MS);
    expect(backend.hostPid).toBeNull();
    expect(error.code).toBe('INVALID_STATE');
    expect(error.details).toEqual({ hostProtocol: HOST_PROTOCOL_VERSION + 1, hostPid: 4242, heldPtys: 3 });
    expect(error.message).toContain(
      `(pid 4242) speaks protocol ${HOST_PROTOCOL_VERSION + 1} and this lanevisor ${HOST_PROTOCOL_VERSION}`,
    );
    expect(error.message).toContain('it holds 3 terminals, which this version cannot adopt');
    expect(error.message).toContain('kill 4242');
    expect(old.hellos).toHaveLength(1);
  });

  it(
    'that does not go, refuses the runtime after the wait, naming the log that has its pid',
    async () => {
      const stateDir = stateDirForTest();
      const old = await otherVersionHost(stateDir, OLD_REFUSAL);
      const started = performance.now();
      const error = await refusalOf(backendFor(stateDir).connect());
      expect(performance.now() - started).toBeGreaterThanOrEqual(OTHER_PROTOCOL_EXIT_WAIT_MS);
      expect(error.details).toEqual({ hostProtocol: 1 });
      expect(error.message).toContain(
        `the terminal host speaks protocol 1 and this lanevisor ${HOST_PROTOCOL_VERSION}`,
      );
      expect(error.message).toContain(`its pid is in ${old.paths.logFile}`);
      // Still the old one's socket: no host of this version was started over it.
      await old.stop();
    },
    OTHER_PROTOCOL_EXIT_WAIT_MS + 10_000,
  );

  it('fails createRuntime with the advice while it holds terminals; once it is gone, the next one starts', async () => {
    const repo = createTempRepo();
    cleanups.push(() => repo.dispose());
    const stateDir = stateDirForTest();
    const old = await otherVersionHost(stateDir, { ...OLD_REFUSAL, version: 1, hostPid: 4343, heldPtys: 2 });
    const options = { repo: repo.path, stateDir, pty: { host: 'process' as const, terminateGraceMs: 500 } };
    const error = await refusalOf(createRuntime(options));
    expect(error.code).toBe('INVALID_STATE');
    expect(error.message).toContain('it holds 2 terminals');
    await old.stop();
    const rt = await createRuntime(options);
    cleanups.push(() => rt.shutdown({ cleanupLanes: true }));
    expect(rt.ptyHost?.pid).not.toBe(4343);
    expect(isAlive(rt.ptyHost?.pid as number)).toBe(true);
  });

  it('refuses `lanevisor attach` with the same advice, at once', async () => {
    const stateDir = stateDirForTest();
    await otherVersionHost(stateDir, { ...OLD_REFUSAL, version: 1, hostPid: 777, heldPtys: 1 });
    const error = await refusalOf(HostViewer.connect(stateDir));
    expect(error.message).toContain('(pid 777) speaks protocol 1');
    expect(error.message).toContain('it holds 1 terminal,');
  });
});

describe('refusalError', () => {
  it('passes any other refusal on as it was said', () => {
    const error = refusalError({ t: 'refused', reason: 'wrong token' }, '/x/host.log');
    expect(error.code).toBe('INVALID_STATE');
    expect(error.message).toBe('the terminal host refused this connection: wrong token');
    expect(error.details).toBeUndefined();
  });
});
