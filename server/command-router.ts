import { hostname } from 'node:os';
import {
  CONTROL_COMMAND_TIMEOUT_MS,
  type ControlMethod,
  type LaneView,
  LanevisorError,
  type RemoteRuntimeLanes,
  type RemoteRuntimes,
  type Runtime,
} from '../index.js';

/** The runtime a lane or PTY belongs to, as the page is told (grouping by host). */
export interface RuntimeRef {
  readonly id: string;
  readonly host: string;
  readonly repo: string;
}

/** Remote runtimes' lanes are asked again when a lookup misses, or for runtime.info, once this much time has passed. */
const REMOTE_LOOKUP_FRESH_MS = 1_000;

/**
 * Where each command goes: to this runtime's bus, or, when the server was given other runtimes
 * (`serve --nats`), to the runtime that holds the lane or PTY it names. `lane.list` answers with
 * every runtime's lanes, each saying whose it is; `lane.create` takes a `runtimeId`.
 */
export class CommandRouter {
  #known: readonly RemoteRuntimeLanes[] = [];
  #knownAt = 0;

  constructor(
    private readonly rt: Runtime,
    private readonly remote: RemoteRuntimes | undefined,
  ) {}

  get local(): RuntimeRef {
    return { id: this.rt.id, host: hostname(), repo: this.rt.repo };
  }

  async execute(method: ControlMethod, payload: unknown): Promise<unknown> {
    const input = (payload ?? {}) as Record<string, unknown>;
    if (method === 'lane.create' && 'runtimeId' in input) {
      const { runtimeId, ...options } = input;
      if (runtimeId === this.rt.id) return this.#local(method, options);
      if (this.remote === undefined || typeof runtimeId !== 'string') {
        throw new LanevisorError(
          'NOT_FOUND',
          `no runtime ${String(runtimeId)} here; this server shows ${this.rt.id} only`,
          {
            details: { runtimeId },
          },
        );
      }
      return this.remote.request(runtimeId, method, options);
    }
    if (this.remote === undefined) return this.#local(method, payload);
    if (method === 'lane.list') return this.#everyLane();
    if (method === 'runtime.info')
      return { ...((await this.#local(method, payload)) as object), runtimes: await this.#runtimes() };
    const owner = await this.ownerOf(input);
    return owner === undefined ? this.#local(method, payload) : this.remote.request(owner, method, payload);
  }

  /** The remote runtime holding the payload's lane or PTY; undefined when it is this one's (or nobody's). */
  async ownerOf(input: { readonly laneId?: unknown; readonly ptyId?: unknown }): Promise<string | undefined> {
    const { laneId, ptyId } = input;
    if (typeof laneId === 'string' && this.rt.getLane(laneId) !== undefined) return undefined;
    if (typeof ptyId === 'string' && this.rt.getPty(ptyId) !== undefined) return undefined;
    if (typeof laneId !== 'string' && typeof ptyId !== 'string') return undefined;
    const find = () =>
      this.#known.find(({ lanes }) =>
        lanes.some((lane) => lane.id === laneId || lane.ptys.some((pty) => pty.id === ptyId)),
      )?.runtime.id;
    const found = find();
    if (found !== undefined || Date.now() - this.#knownAt < REMOTE_LOOKUP_FRESH_MS) return found;
    await this.#refresh();
    return find();
  }

  /** The remote connection for a PTY stream. */
  connect(runtimeId: string): ReturnType<RemoteRuntimes['connect']> {
    return (this.remote as RemoteRuntimes).connect(runtimeId);
  }

  #local(method: ControlMethod, payload: unknown): Promise<unknown> {
    return this.rt.bus.request(method, payload ?? {}, { timeoutMs: CONTROL_COMMAND_TIMEOUT_MS });
  }

  async #everyLane(): Promise<Array<LaneView & { runtime: RuntimeRef }>> {
    const local = (await this.#local('lane.list', {})) as LaneView[];
    await this.#refresh();
    return [
      ...local.map((lane) => ({ ...lane, runtime: this.local })),
      ...this.#known.flatMap(({ runtime, lanes }) => lanes.map((lane) => ({ ...lane, runtime }))),
    ];
  }

  async #runtimes(): Promise<RuntimeRef[]> {
    // The page asks for the runtime and the lanes together: one round of lane.list serves both.
    if (Date.now() - this.#knownAt >= REMOTE_LOOKUP_FRESH_MS) await this.#refresh();
    return [this.local, ...this.#known.map(({ runtime }) => runtime)];
  }

  async #refresh(): Promise<void> {
    this.#known = (await this.remote?.list())?.filter(({ runtime }) => runtime.id !== this.rt.id) ?? [];
    this.#knownAt = Date.now();
  }
}
