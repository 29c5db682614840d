import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeControl, encodeInput } from '../../../actors/pty/host/framing.js';
import { isLanevisorError } from '../../../bus/errors.js';
import { connectRuntime } from '../../../supervision/control/control-client.js';
import { controlPathsOf } from '../../../supervision/control/control-protocol.js';
import { createRuntimeFixture, type RuntimeFixture } from '../../support/runtime-fixture.js';

/** The control socket itself: who may talk to it, what a client's going away stops, and its files. */
let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
});

/** What the socket says to a raw client that sends `frames`, until it closes the connection. */
function rawExchange(socketPath: string, frames: Buffer[]): Promise<{ received: number; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    let received = 0;
    socket.on('connect', () => {
      for (const frame of frames) socket.write(frame);
    });
    socket.on('data', (chunk) => {
      received += chunk.byteLength;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ received, closed: true }));
  });
}

describe("a runtime's control socket", () => {
  it('lives in a 0700 directory with a 0600 token, answers with the commands, and is gone after shutdown', async () => {
    fixture = await createRuntimeFixture({ pty: { host: 'inline' } });
    const paths = controlPathsOf(fixture.rt.stateDir);
    expect(statSync(paths.socketDir).mode & 0o777).toBe(0o700);
    expect(statSync(paths.tokenFile).mode & 0o777).toBe(0o600);
    const runtime = await connectRuntime({ repo: fixture.repo.path });
    expect(runtime).not.toBeNull();
    expect(runtime?.runtimeId).toBe(fixture.rt.id);
    expect(await runtime?.request('runtime.info')).toMatchObject({ id: fixture.rt.id, repo: fixture.repo.path });
    // The commands' own errors, with their codes, cross the socket.
    const bad = await runtime?.request('pty.write', { ptyId: 'pty_nope', data: 'x' }).catch((error: unknown) => error);
    expect(isLanevisorError(bad, 'NOT_FOUND')).toBe(true);
    const invalid = await runtime?.request('lane.create', { label: 7 }).catch((error: unknown) => error);
    expect(isLanevisorError(invalid, 'VALIDATION_ERROR')).toBe(true);
    const follow = await runtime?.follow('pty_nope', () => undefined).catch((error: unknown) => error);
    expect(isLanevisorError(follow, 'NOT_FOUND')).toBe(true);
    runtime?.close();
    await fixture.rt.shutdown();
    expect(existsSync(paths.socket)).toBe(false);
    expect(await connectRuntime({ repo: fixture.repo.path })).toBeNull();
  });

  it('closes a connection with a wrong token, or a frame that is not a control message, without a word', async () => {
    fixture = await createRuntimeFixture({ pty: { host: 'inline' } });
    const { socket } = controlPathsOf(fixture.rt.stateDir);
    expect(await rawExchange(socket, [encodeControl({ type: 'hello', token: 'f'.repeat(64) })])).toEqual({
      received: 0,
      closed: true,
    });
    expect(await rawExchange(socket, [encodeInput(1, 'ls\r')])).toEqual({ received: 0, closed: true });
    expect(await rawExchange(socket, [encodeControl({ type: 'request', id: 1, method: 'lane.list' })])).toEqual({
      received: 0,
      closed: true,
    });
  });

  it("stops a streamed exec when asked and when its client goes away, the command's whole tree", async () => {
    fixture = await createRuntimeFixture({ pty: { host: 'inline' }, execGraceMs: 200 });
    const lane = await fixture.rt.createLane({ label: 'execs' });
    const runtime = await connectRuntime({ repo: fixture.repo.path });
    if (runtime === null) throw new Error('no control socket');
    const abort = new AbortController();
    let stdout = '';
    const running = runtime.exec(
      { laneId: lane.id, argv: ['bash', '-c', 'echo begun; sleep 60'] },
      { signal: abort.signal, onStdout: (chunk) => (stdout += chunk) },
    );
    await expect.poll(() => stdout).toContain('begun');
    abort.abort();
    expect(await running).toMatchObject({ exitCode: null, timedOut: false });

    // The client vanishes mid-command: the runtime stops it rather than leaving it running.
    const marker = `lanevisor-orphan-${process.pid}`;
    const second = await connectRuntime({ repo: fixture.repo.path });
    if (second === null) throw new Error('no control socket');
    let began = '';
    void second
      .exec(
        { laneId: lane.id, argv: ['bash', '-c', `echo begun; exec -a ${marker} sleep 60`] },
        {
          onStdout: (chunk) => (began += chunk),
        },
      )
      .catch(() => undefined);
    await expect.poll(() => began).toContain('begun');
    await expect.poll(() => runningWithMarker(marker)).toBe(true);
    second.close();
    await expect.poll(() => runningWithMarker(marker), { timeout: 5_000 }).toBe(false);
    runtime.close();
  });
});

function runningWithMarker(marker: string): boolean {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(marker);
      } catch {
        return false;
      }
    });
}
