import type { PtyStarted } from '../../actors/pty/backend.js';
import type { PtyProcessOptions } from '../../actors/pty/pty-process-actor.js';
import type { LifecyclePayload } from '../../bus/lifecycle.js';
import type { PtyControllerOptions } from './pty-owner.js';
import { PTY_ID_VARIABLE } from './spawn-request.js';

/** What the process actor is asked to start for a PTY: the spawn, its tag, its limits, what the host keeps. */
export function startRequestOf(options: PtyControllerOptions): PtyProcessOptions['request'] {
  const { identity, spawn, limits } = options;
  return {
    ptyId: identity.ptyId,
    spawn: spawn.request,
    tag: { name: PTY_ID_VARIABLE, value: identity.ptyId },
    maxPendingInputBytes: limits.maxPendingInputBytes,
    scrollbackLines: limits.scrollbackLines,
    meta: options.meta,
    ...(options.preface === undefined ? {} : { preface: options.preface }),
  };
}

/**
 * The next generation's request: the preface was shown once, and the host's record says how
 * often the PTY was restarted, for a runtime that adopts it.
 */
export function restartRequestOf(
  request: PtyProcessOptions['request'],
  meta: PtyControllerOptions['meta'],
  restarts: number,
): PtyProcessOptions['request'] {
  const { preface: _shownOnce, ...rest } = request;
  return { ...rest, meta: { ...meta, restarts } };
}

/** `pty.spawned`: the process as the kernel sees it, and the terminal it was given. */
export function spawnedPayload(
  options: PtyControllerOptions,
  started: PtyStarted,
  now: { readonly cols: number; readonly rows: number; readonly restarts: number },
): LifecyclePayload<'pty.spawned'> {
  const { request, name, sessionId, terminalId } = options.spawn;
  return {
    laneId: options.identity.laneId,
    ptyId: options.identity.ptyId,
    pid: started.pid,
    pgid: started.pgid,
    sid: started.sid,
    startTime: started.startTime,
    command: started.file,
    args: [...request.args],
    cwd: request.cwd,
    cols: now.cols,
    rows: now.rows,
    name,
    sessionId,
    terminalId,
    restarts: now.restarts,
  };
}
