import type { Socket } from 'node:net';
import { errorMessage, LanevisorError } from '../../../bus/errors.js';
import type { PtySessionEvents, PtyStartRequest } from '../backend.js';
import { type Frame, FrameDecoder, FrameKind } from './framing.js';
import { type ClientMessage, HOST_PROTOCOL_VERSION, type HostMessage, send } from './host-protocol.js';
import { notWelcomedError } from './host-refusal.js';
import { HostSession } from './host-session.js';

export const HOST_HEARTBEAT_MS = 5_000;
/** Two timers' worth (VS Code's 6 s + 5 s): waking from sleep is not taken for a dead host. */
export const HOST_UNRESPONSIVE_MS = 11_000;
export const HOST_REQUEST_TIMEOUT_MS = 10_000;

/** Who the runtime is, told to the host when it connects. */
export interface RuntimeHello {
  readonly runtimeId: string;
  readonly lingerMs: number;
  readonly graceMs: number;
}

/** One authenticated connection to a host: requests and their replies, the sessions by channel, the heartbeat. */
export class HostConnection {
  /** 0 until the host has welcomed this connection. */
  hostPid = 0;
  readonly #decoder = new FrameDecoder();
  readonly #waiting = new Map<number, { resolve(message: HostMessage): void; reject(error: Error): void }>();
  readonly #sessions = new Map<number, HostSession>();
  /**
   * What came for a channel a reply has just announced, before its session exists: the host
   * writes a PTY's first output (or, adopting, its retained output) right after the reply, so
   * both often arrive in one read, and the session is made only once the reply's awaiter runs.
   */
  readonly #early = new Map<number, Array<(session: HostSession) => void>>();
  #nextId = 1;
  #lastHeard = performance.now();
  #heartbeat: NodeJS.Timeout | undefined;
  #ending = false;
  #gone = false;
  #goneReason = '';

  constructor(
    private readonly socket: Socket,
    private readonly onLost: (reason: string) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#gone || this.#closed(this.#ending ? 'closed' : 'died (its connection closed)'));
  }

  /** Authenticates; a refusal rejects with what to tell the user (`logFile`: the host's log, named in it). */
  async hello(token: string, options: RuntimeHello, logFile: string): Promise<void> {
    send(this.socket, {
      t: 'hello',
      token,
      version: HOST_PROTOCOL_VERSION,
      role: 'runtime',
      runtimeId: options.runtimeId,
      lingerMs: options.lingerMs,
      graceMs: options.graceMs,
    });
    const welcome = await this.#next(0);
    if (welcome.t !== 'welcome') {
      this.socket.destroy();
      throw notWelcomedError(welcome, logFile);
    }
    this.hostPid = welcome.hostPid;
    this.#heartbeat = setInterval(() => this.#beat(), HOST_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  request(message: Extract<ClientMessage, { id: number }>): Promise<HostMessage> {
    if (this.#gone) return Promise.reject(connectionLost(this.#goneReason));
    const id = this.#nextId++;
    send(this.socket, { ...message, id });
    return this.#next(id).then((reply) => {
      if (reply.t === 'error') throw new LanevisorError(reply.code as never, reply.message);
      return reply;
    });
  }

  session(
    channel: number,
    request: PtyStartRequest,
    started: HostSession['started'],
    events: PtySessionEvents,
    fromOffset: number,
  ): HostSession {
    const session = new HostSession(this.socket, channel, request, started, events, fromOffset, {
      snapshot: async (scrollbackLines) => {
        const reply = await this.request({
          t: 'snapshot',
          id: 0,
          ptyId: request.ptyId,
          ...(scrollbackLines === undefined ? {} : { scrollbackLines }),
        });
        if (reply.t !== 'snapshot')
          throw new LanevisorError('INTERNAL_ERROR', `the host answered ${reply.t} to a snapshot`);
        return { data: reply.data, cols: reply.cols, rows: reply.rows, offset: reply.offset };
      },
      closed: () => this.#sessions.delete(channel),
    });
    this.#sessions.set(channel, session);
    for (const deliver of this.#early.get(channel) ?? []) deliver(session);
    this.#early.delete(channel);
    return session;
  }

  releaseAll(): void {
    for (const session of this.#sessions.values()) session.release();
    this.#sessions.clear();
  }

  /** Every session of this connection is lost; returns their PTY ids. */
  loseAll(reason: string): string[] {
    const ptyIds = [...this.#sessions.values()].map((session) => session.ptyId);
    for (const session of this.#sessions.values()) session.lose(reason);
    this.#sessions.clear();
    return ptyIds;
  }

  async end(keepPtys: boolean): Promise<void> {
    this.#ending = true;
    clearInterval(this.#heartbeat);
    send(this.socket, { t: 'bye', keepPtys });
    await new Promise<void>((resolvePromise) => {
      this.socket.once('close', () => resolvePromise());
      this.socket.end();
    });
  }

  #next(id: number): Promise<HostMessage> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new LanevisorError('TIMEOUT', `the terminal host did not answer within ${HOST_REQUEST_TIMEOUT_MS} ms`));
      }, HOST_REQUEST_TIMEOUT_MS);
      this.#waiting.set(id, {
        resolve: (message) => {
          clearTimeout(timer);
          resolvePromise(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  #onData(chunk: Buffer): void {
    this.#lastHeard = performance.now();
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.socket.destroy();
      this.#closed(`sent what is not a frame (${errorMessage(error)})`);
      return;
    }
    for (const frame of frames) {
      if (frame.kind === FrameKind.OUTPUT) {
        const { channel, offset, data } = frame;
        this.#toSession(channel, (session) => session.output(offset, data));
        continue;
      }
      if (frame.kind !== FrameKind.CONTROL) continue;
      const message = frame.message as HostMessage;
      if ('id' in message) {
        if ('channel' in message) this.#early.set(message.channel, []);
        this.#waiting.get(message.id)?.resolve(message);
        this.#waiting.delete(message.id);
      } else if (message.t === 'welcome' || message.t === 'refused') {
        this.#waiting.get(0)?.resolve(message);
        this.#waiting.delete(0);
      } else if ('channel' in message) this.#toSession(message.channel, (session) => session.notice(message));
    }
  }

  /** To the channel's session; kept for it when its session is still being made; else dropped (it is closed). */
  #toSession(channel: number, deliver: (session: HostSession) => void): void {
    const session = this.#sessions.get(channel);
    if (session !== undefined) deliver(session);
    else this.#early.get(channel)?.push(deliver);
  }

  #beat(): void {
    if (performance.now() - this.#lastHeard > HOST_UNRESPONSIVE_MS) {
      this.socket.destroy();
      this.#closed(`stopped answering for ${Math.round((performance.now() - this.#lastHeard) / 1000)} s`);
      return;
    }
    void this.request({ t: 'ping', id: 0 }).catch(() => undefined);
  }

  #closed(reason: string): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#goneReason = reason;
    clearInterval(this.#heartbeat);
    for (const waiter of this.#waiting.values()) waiter.reject(connectionLost(reason));
    this.#waiting.clear();
    this.#early.clear();
    // Before the welcome nothing was served, so nothing is lost (a refusal closes it too).
    if (!this.#ending && this.hostPid > 0) this.onLost(reason);
  }
}

/** A request the host never answered because its connection ended (see isConnectionLoss). */
function connectionLost(reason: string): LanevisorError {
  return new LanevisorError('INVALID_STATE', `the terminal host ${reason}`, { details: { connectionLost: true } });
}

/** Whether a request failed because the host's connection ended, not because the host refused it. */
export function isConnectionLoss(error: unknown): boolean {
  return error instanceof LanevisorError && error.details?.connectionLost === true;
}
