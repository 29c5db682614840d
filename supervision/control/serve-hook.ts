import { LanevisorError } from '../../bus/errors.js';
import type { Runtime } from '../runtime/types.js';

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
