import {
  CONTROL_COMMAND_TIMEOUT_MS,
  type ControlMethod,
  connectRuntime,
  findLane,
  type LaneView,
  LanevisorError,
  type RuntimeConnection,
} from '../index.js';
import type { CliIo } from './io.js';
import { type RepoFlags, withRuntime } from './options.js';

/**
 * The runtime alive on a repository's state directory, reached through its control socket; null
 * at once when there is none (no socket, or a dead runtime's that refuses the connection).
 */
export function liveRuntimeOf(flags: RepoFlags, io: CliIo): Promise<RuntimeConnection | null> {
  return connectRuntime({
    repo: flags.repo ?? io.cwd ?? process.cwd(),
    ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
  });
}

/** Runs `work` on the live runtime and closes the connection; undefined when none is alive. */
export async function onLiveRuntime<T>(
  flags: RepoFlags,
  io: CliIo,
  work: (runtime: RuntimeConnection) => Promise<T>,
): Promise<{ readonly value: T } | undefined> {
  const runtime = await liveRuntimeOf(flags, io);
  if (runtime === null) return undefined;
  try {
    return { value: await work(runtime) };
  } finally {
    runtime.close();
  }
}

/** A commmand that only a live runtime can carry out: INVALID_STATE, saying how to start one. */
export async function requireLiveRuntime<T>(
  flags: RepoFlags,
  io: CliIo,
  what: string,
  work: (runtime: RuntimeConnection) => Promise<T>,
): Promise<T> {
  const done = await onLiveRuntime(flags, io, work);
  if (done === undefined) {
    throw new LanevisorError(
      'INVALID_STATE',
      `no lanevisor runtime is running on this repository, and ${what} needs one (start one with lanevisor serve, or in your orchestrator)`,
    );
  }
  return done.value;
}

/** A lane of the live runtime by id or label; NOT_FOUND naming what it has. */
export async function liveLane(runtime: RuntimeConnection, idOrLabel: string): Promise<LaneView> {
  return findLane((await runtime.request('lane.list')) as LaneView[], idOrLabel);
}

/** A control command, carried out by whichever runtime `withAnyRuntime` found. */
export type ControlCall = (method: ControlMethod, payload?: unknown) => Promise<unknown>;

/**
 * Work done through the control commands: by the live runtime when there is one, else by a
 * runtime started for it (which reconciles first), through its own bus. One code path for both.
 */
export async function withAnyRuntime<T>(
  flags: RepoFlags,
  io: CliIo,
  work: (call: ControlCall) => Promise<T>,
): Promise<T> {
  const live = await onLiveRuntime(flags, io, (runtime) => work((method, payload) => runtime.request(method, payload)));
  if (live !== undefined) return live.value;
  return withRuntime(flags, io, (rt) =>
    work((method, payload) => rt.bus.request(method, payload ?? {}, { timeoutMs: CONTROL_COMMAND_TIMEOUT_MS })),
  );
}

/** A lane by id or label, asked of whichever runtime carries the call. */
export async function laneThrough(call: ControlCall, idOrLabel: string): Promise<LaneView> {
  return findLane((await call('lane.list')) as LaneView[], idOrLabel);
}
