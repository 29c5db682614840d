import { createConnection, type Socket } from 'node:net';
import { errorMessage, isLanevisorError } from '../../../bus/errors.js';
import type { SignalRecord } from '../../process/tree-signaller.js';
import type { PtyStarted, PtyStartRequest } from '../backend.js';
import type { PtyExit } from '../driver.js';
import { encodeControl } from './framing.js';

/**
 * The control messages between the terminal host and its clients (one JSON object per CONTROL
 * frame; output and input travel in their own binary frames, see framing.ts). A client says
 * `hello` with the token first. A runtime (`role: 'runtime'`) starts, adopts and drives PTYs; a
 * viewer (`lanevisor attach`) watches one and may type into it. Requests carry an `id` their reply
 * repeats; commands for a PTY name its `channel`, a number the host gave it on this connection.
 */
/**
 * 2: output frames carry the bytes as read (a character may be split between two frames) and a
 * viewer acknowledges bytes, not characters.
 */
export const HOST_PROTOCOL_VERSION = 2;
/**
 * No connection and no PTY for this long: the host exits (a runtime waiting for a host of another
 * protocol to go counts on it, which is why it is part of the protocol).
 */
export const HOST_IDLE_EXIT_MS = 5_000;

/** What the host keeps of a PTY for whoever adopts it: opaque to the host. */
export type PtyMeta = Readonly<Record<string, unknown>>;

export interface HostPtyInfo {
  readonly ptyId: string;
  readonly runtimeId: string;
  readonly started: PtyStarted;
  readonly cols: number;
  readonly rows: number;
  readonly meta: PtyMeta;
  /** Offsets of the output the host still holds: from `retainedFrom` (the first its runtime did not acknowledge) to `total`. */
  readonly retainedFrom: number;
  readonly total: number;
  /** null while it runs. */
  readonly exit: PtyExit | null;
  /** No runtime drives it: its runtime died (or left keeping it); another may adopt it. */
  readonly lingering: boolean;
  /** Its linger ran out and the host is stopping it: nobody may adopt it any more. */
  readonly ending: boolean;
}

export type ClientMessage =
  | {
      readonly t: 'hello';
      readonly token: string;
      readonly version: number;
      readonly role: 'runtime' | 'viewer';
      readonly runtimeId?: string;
      /** How long the host keeps this runtime's PTYs if the connection drops without `bye`. */
      readonly lingerMs?: number;
      /** The grace between TERM and KILL when the host ends them after the linger. */
      readonly graceMs?: number;
    }
  | {
      readonly t: 'start';
      readonly id: number;
      readonly request: PtyStartRequest;
      readonly outputBufferBytes: number;
      readonly scrollbackLines: number;
      readonly meta: PtyMeta;
    }
  | { readonly t: 'adopt'; readonly id: number; readonly ptyId: string }
  | { readonly t: 'list'; readonly id: number }
  /** Forget a lingering PTY nobody will adopt (its processes are stopped by the runtime, by tag). */
  | { readonly t: 'end'; readonly id: number; readonly ptyId: string }
  | { readonly t: 'snapshot'; readonly id: number; readonly ptyId: string; readonly scrollbackLines?: number }
  /** A viewer's size (when it may type) is the PTY's from now on: the most recent attach or resize wins. */
  | {
      readonly t: 'attach';
      readonly id: number;
      readonly ptyId: string;
      readonly readOnly: boolean;
      readonly cols?: number;
      readonly rows?: number;
    }
  | { readonly t: 'ping'; readonly id: number }
  | { readonly t: 'resize'; readonly channel: number; readonly cols: number; readonly rows: number }
  | { readonly t: 'signal'; readonly channel: number; readonly signal: string }
  | { readonly t: 'signalTree'; readonly channel: number; readonly signals: readonly string[] }
  | { readonly t: 'killTree'; readonly channel: number }
  | { readonly t: 'pause'; readonly channel: number }
  | { readonly t: 'resume'; readonly channel: number }
  /** A runtime has received the output up to `offset`; a viewer has shown `bytes` more bytes of output. */
  | { readonly t: 'ack'; readonly channel: number; readonly offset?: number; readonly bytes?: number }
  /** Last resort for one PTY: SIGKILL what runs, forget it. */
  | { readonly t: 'close'; readonly channel: number }
  | { readonly t: 'detach'; readonly channel: number }
  /** The runtime leaves on purpose; with `keepPtys` its PTYs linger as if it had died. */
  | { readonly t: 'bye'; readonly keepPtys: boolean };

/**
 * Why the host closed a connection it would not serve. Refusing a client of another protocol,
 * since protocol 2 it also says its own protocol, pid and how many PTYs it holds, so that the
 * client can tell its user what to do (protocol 1 said only the reason).
 */
export interface HostRefusal {
  readonly t: 'refused';
  readonly reason: string;
  readonly version?: number;
  readonly hostPid?: number;
  readonly heldPtys?: number;
}

export type HostMessage =
  | { readonly t: 'welcome'; readonly hostPid: number; readonly version: number }
  | HostRefusal
  | { readonly t: 'started'; readonly id: number; readonly channel: number; readonly started: PtyStarted }
  | {
      readonly t: 'adopted';
      readonly id: number;
      readonly channel: number;
      readonly info: HostPtyInfo;
    }
  | { readonly t: 'ptys'; readonly id: number; readonly ptys: readonly HostPtyInfo[] }
  | {
      readonly t: 'snapshot';
      readonly id: number;
      readonly data: string;
      readonly cols: number;
      readonly rows: number;
      /** The byte offset of the output the screen shows up to. */
      readonly offset: number;
    }
  | {
      readonly t: 'attached';
      readonly id: number;
      readonly channel: number;
      readonly snapshot: string;
      readonly cols: number;
      readonly rows: number;
    }
  | { readonly t: 'pong'; readonly id: number }
  | { readonly t: 'ended'; readonly id: number }
  | { readonly t: 'error'; readonly id: number; readonly code: string; readonly message: string }
  /** Input the terminal has taken so far on this channel (bytes): what the client may count as no longer pending. */
  | { readonly t: 'inputTaken'; readonly channel: number; readonly taken: number }
  | { readonly t: 'exited'; readonly channel: number; readonly exit: PtyExit }
  | { readonly t: 'treeGone'; readonly channel: number }
  | { readonly t: 'signaled'; readonly channel: number; readonly record: SignalRecord }
  /** A viewer fell too far behind: what it missed is replaced by this fresh screen. */
  | {
      readonly t: 'redraw';
      readonly channel: number;
      readonly snapshot: string;
      readonly cols: number;
      readonly rows: number;
    }
  | { readonly t: 'resized'; readonly channel: number; readonly cols: number; readonly rows: number };

export function send(socket: Socket, message: HostMessage | ClientMessage): void {
  if (!socket.destroyed) socket.write(encodeControl(message));
}

/** The error reply to a request, with the LanevisorError code when there is one. */
export function errorReply(id: number, error: unknown): HostMessage {
  return {
    t: 'error',
    id,
    code: isLanevisorError(error) ? error.code : 'INTERNAL_ERROR',
    message: errorMessage(error),
  };
}

/** A connection to a host's socket, or undefined when nothing listens there. */
export function dial(socketPath: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const attempt = createConnection(socketPath);
    attempt.once('connect', () => resolve(attempt));
    attempt.once('error', () => resolve(undefined));
  });
}

/** Whether something listens on `socketPath` (connect refused or no socket: no). */
export async function answers(socketPath: string): Promise<boolean> {
  const probe = await dial(socketPath);
  probe?.destroy();
  return probe !== undefined;
}
