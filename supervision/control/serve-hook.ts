import { LanevisorError } from '../../bus/errors.js';
import type { Runtime } from '../runtime/types.js';
import type { ControlMethod } from './commands.js';
import type { RuntimeConnection } from './control-client.js';
import type { LaneView } from './views.js';

/**
 * `rt.serve()` without supervision/ depending on the HTTP server: the server sits on the floor
 * above (server/, reached through index.ts like the command line), and index.ts hands its start
 * function down here when the package is loaded.
 */
export interface ServeOptions {
  /** 0 (the default) takes any free port. */
  readonly port?: number;
  /** Default `127.0.0.1`; anything but loopback is warned about on stderr. */
  readonly host?: string;
  /**
   * Keep the token in this file (read when present, else written 0600): a server restarted on the
   * same file has the same token, so open pages and clients reconnect. Default: a new token each time.
   */
  readonly tokenFile?: string;
  /**
   * Other runtimes to show and drive beside this one (`lanevisor serve --nats`): the page lists
   * their lanes grouped by host, and a command for their lane or PTY goes to them.
   */
  readonly remote?: RemoteRuntimes;
}

/** Runtimes in other processes or on other machines, as a server reaches them (through NATS). */
export interface RemoteRuntimes {
  /** The runtimes that answer now, with their lanes. */
  list(): Promise<readonly RemoteRuntimeLanes[]>;
  request(runtimeId: string, method: ControlMethod, payload: unknown): Promise<unknown>;
  /** A session for a PTY stream (screen, output, input, acknowledgements). */
  connect(runtimeId: string): Promise<RuntimeConnection>;
}

export interface RemoteRuntimeLanes {
  readonly runtime: { readonly id: string; readonly host: string; readonly repo: string };
  readonly lanes: readonly LaneView[];
}

export interface ServeHandle {
  /** `http://host:port/`, the page and the API's base. */
  readonly url: string;
  /** What every request must carry (`Authorization: Bearer`, or the cookie `/?token=` sets). */
  readonly token: string;
  /** Stops accepting, ends every connection (HTTP, SSE, WebSocket) and resolves once they are closed. */
  close(): Promise<void>;
}

export type ServerStart = (rt: Runtime, options: ServeOptions) => Promise<ServeHandle>;

let serverStart: ServerStart | undefined;

export function provideServer(start: ServerStart): void {
  serverStart = start;
}

export function serveRuntime(rt: Runtime, options: ServeOptions): Promise<ServeHandle> {
  if (serverStart === undefined) {
    throw new LanevisorError(
      'INTERNAL_ERROR',
      'the HTTP server is not loaded: import lanevisor from its package entry',
    );
  }
  return serverStart(rt, options);
}
