import type { PtySessionEvents, PtyStartRequest } from '../../actors/pty/backend.js';
import { HostBackend } from '../../actors/pty/host/host-client.js';
import { createPtyId } from '../../bus/ids.js';

/** A runtime's side of the host of `stateDir` (no linger), closed by the test's cleanup. */
export function testHostBackend(stateDir: string, cleanups: Array<() => Promise<void> | void>): HostBackend {
  const backend = new HostBackend({
    stateDir,
    runtimeId: 'rt_test0000000000',
    lingerMs: 0,
    graceMs: 200,
    outputBufferBytes: 1 << 20,
  });
  cleanups.push(() => backend.close());
  return backend;
}

/** A start request for bash running `script` in a terminal of `cols` columns. */
export function bashPtyRequest(script: string, cols = 80): PtyStartRequest {
  return {
    ptyId: createPtyId(),
    spawn: {
      file: 'bash',
      args: ['--norc', '--noprofile', '-c', script],
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      cols,
      rows: 24,
    },
    tag: { name: 'LANEVISOR_PTY_ID', value: 'x' },
    maxPendingInputBytes: 1 << 20,
  };
}

/** Session events that listen to nothing. */
export const IGNORED_SESSION_EVENTS: PtySessionEvents = {
  data: () => undefined,
  exited: () => undefined,
  treeGone: () => undefined,
  signaled: () => undefined,
  lost: () => undefined,
};
