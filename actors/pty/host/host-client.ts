import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, LanevisorError } from '../../../bus/errors.js';
import { DEFAULT_SCROLLBACK_LINES, type PtyBackend, type PtySessionEvents, type PtyStartRequest } from '../backend.js';
import { type Frame, FrameDecoder, FrameKind } from './framing.js';
import { ensureSocketDir, ensureToken, hostPathsOf } from './host-paths.js';
import {
  type ClientMessage,
  HOST_PROTOCOL_VERSION,
  type HostMessage,
  type HostPtyInfo,
  send,
} from './host-protocol.js';
import { HostSession } from './host-session.js';

/**
 * `host: 'process'`: the runtime's side of the terminal host. It connects to the state
 * directory's host, starting one (detached, in its own session, stdio not tied to this process)
 * when none answers, and implements the PTY backend over the socket. A heartbeat tells a host
 * that stopped answering from a busy one; a host that died or stopped answering loses its PTYs
 * (each session reports `lost`, and what of them still runs is stopped by their tags) and the
 * next start brings up a new host, with backoff, at most HOST_MAX_RESTARTS times in
 * HOST_RESTART_PERIOD_MS.
 */
export const HOST_START_TIMEOUT_MS = 5_000;
export const HOST_HEARTBEAT_MS = 5_000;
/** Two timers' worth (VS Code's 6 s + 5 s): waking from sleep is not taken for a dead host. */
export const HOST_UNRESPONSIVE_MS = 11_000;
export const HOST_REQUEST_TIMEOUT_MS = 10_000;
export const HOST_MAX_RESTARTS = 5;
export const HOST_RESTART_PERIOD_MS = 60_000;
const HOST_RESTART_BACKOFF_MS = 100;
const CONNECT_POLL_MS = 20;

export interface HostBackendOptions {
  readonly stateDir: string;
  readonly runtimeId: string;
  /** How long the host keeps this runtime's PTYs after it died. */
  readonly lingerMs: number;
  /** TERM → KILL grace when the host ends them after the linger. */
  readonly graceMs: number;
  readonly outputBufferBytes: number;
  /** The environment the host is started with (the runtime's tags never go to it). */
  readonly env?: NodeJS.ProcessEnv;
  /** A host serves this runtime now (one that was running, or one just started). */
  readonly onHostStarted?: (pid: number) => void;
  readonly onHostLost?: (pid: number, ptyIds: readonly string[]) => void;
}

export class HostBackend implements PtyBackend {
  readonly kind = 'process';
  #connection: HostConnection | undefined;
  #connecting: Promise<HostConnection> | undefined;
  readonly #losses: number[] = [];
  #closed = false;

  constructor(private readonly options: HostBackendOptions) {}

  /** The pid of the host serving this runtime, once connected. */
  get hostPid(): number | null {
    return this.#connection?.hostPid ?? null;
  }

  /** Connects (starting the host when none runs). */
  async connect(): Promise<void> {
    await this.#connect();
  }

  async start(request: PtyStartRequest, events: PtySessionEvents): Promise<HostSession> {
    const connection = await this.#connect();
    const reply = await connection.request({
      t: 'start',
      id: 0,
      request,
      outputBufferBytes: this.options.outputBufferBytes,
      scrollbackLines: request.scrollbackLines ?? DEFAULT_SCROLLBACK_LINES,
      meta: request.meta ?? {},
    });
    if (reply.t !== 'started') throw new LanevisorError('INTERNAL_ERROR', `the host answered ${reply.t} to a start`);
    return connection.session(reply.channel, request, reply.started, events, 0);
  }

  /**
   * Takes over a PTY the host kept after its runtime died (`request` as it was started): its
   * retained output comes first, from the first byte that runtime did not acknowledge.
   */
  async adopt(request: PtyStartRequest, events: PtySessionEvents): Promise<HostSession> {
    const connection = await this.#connect();
    const reply = await connection.request({ t: 'adopt', id: 0, ptyId: request.ptyId });
    if (reply.t !== 'adopted') throw new LanevisorError('INTERNAL_ERROR', `the host answered ${reply.t} to an adopt`);
    return connection.session(reply.channel, request, reply.info.started, events, reply.info.retainedFrom);
  }

  /** Forgets a lingering PTY nobody adopts (stop its processes first). */
  async end(ptyId: string): Promise<void> {
    const connection = this.#connection;
    if (connection !== undefined) await connection.request({ t: 'end', id: 0, ptyId });
  }

  /** Lets go of every PTY without ending one: `close({ keepPtys: true })` follows. */
  release(): void {
    this.#connection?.releaseAll();
  }

  /** The PTYs the host holds, a dead runtime's among them. Starts no host: none running is an empty list. */
  async list(): Promise<HostPtyInfo[]> {
    const connection = this.#connection ?? (await this.#tryConnect(false));
    if (connection === undefined) return [];
    const reply = await connection.request({ t: 'list', id: 0 });
    return reply.t === 'ptys' ? [...reply.ptys] : [];
  }

  /** Says goodbye (with `keepPtys`, the PTYs linger for the next runtime) and disconnects. */
  async close(options: { readonly keepPtys?: boolean } = {}): Promise<void> {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.end(options.keepPtys === true);
  }

  #connect(): Promise<HostConnection> {
    if (this.#connection !== undefined) return Promise.resolve(this.#connection);
    if (this.#closed)
      return Promise.reject(new LanevisorError('INVALID_STATE', 'the terminal host connection was closed'));
    this.#connecting ??= this.#connectOrStart().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connectOrStart(): Promise<HostConnection> {
    const now = performance.now();
    const recent = this.#losses.filter((at) => now - at < HOST_RESTART_PERIOD_MS);
    if (recent.length > HOST_MAX_RESTARTS) {
      throw new LanevisorError(
        'SPAWN_ERROR',
        `the terminal host died ${recent.length} times within ${HOST_RESTART_PERIOD_MS / 1000} s; not starting it again (see ${hostPathsOf(this.options.stateDir).logFile})`,
      );
    }
    if (recent.length > 0) await delay(Math.min(2_000, HOST_RESTART_BACKOFF_MS * 2 ** (recent.length - 1)));
    const existing = await this.#tryConnect(true);
    if (existing !== undefined) {
      this.options.onHostStarted?.(existing.hostPid);
      return existing;
    }
    const started = this.#startHost();
    const deadline = performance.now() + HOST_START_TIMEOUT_MS;
    while (performance.now() < deadline) {
      await delay(CONNECT_POLL_MS);
      const connection = await this.#tryConnect(true);
      if (connection !== undefined) {
        this.options.onHostStarted?.(connection.hostPid);
        return connection;
      }
      if (started.exitCode !== null) break;
    }
    throw new LanevisorError(
      'SPAWN_ERROR',
      `the terminal host did not start within ${HOST_START_TIMEOUT_MS} ms (see ${hostPathsOf(this.options.stateDir).logFile})`,
    );
  }

  /** A connection to a host that answers, or undefined when none does (no socket, nothing listening). */
  async #tryConnect(keep: boolean): Promise<HostConnection | undefined> {
    const paths = hostPathsOf(this.options.stateDir);
    if (!existsSync(paths.socket)) return undefined;
    ensureSocketDir(paths.socketDir);
    const socket = await new Promise<Socket | undefined>((resolvePromise) => {
      const attempt = createConnection(paths.socket);
      attempt.once('connect', () => resolvePromise(attempt));
      attempt.once('error', () => resolvePromise(undefined));
    });
    if (socket === undefined) return undefined;
    const connection = new HostConnection(socket, (reason) => this.#lost(connection, reason));
    await connection.hello(ensureToken(paths.tokenFile), this.options);
    if (keep) this.#connection = connection;
    return connection;
  }

  #startHost() {
    const paths = hostPathsOf(this.options.stateDir);
    ensureSocketDir(paths.socketDir);
    const env: Record<string, string> = { UV_USE_IO_URING: '0' };
    for (const [key, value] of Object.entries(this.options.env ?? process.env)) {
      if (value !== undefined && !key.startsWith('LANEVISOR_')) env[key] = value;
    }
    const child = spawn(process.execPath, [hostEntry(), this.options.stateDir], {
      detached: true,
      stdio: 'ignore',
      env,
    });
    child.unref();
    return child;
  }

  #lost(connection: HostConnection, reason: string): void {
    if (this.#connection === connection) this.#connection = undefined;
    if (this.#closed) return;
    this.#losses.push(performance.now());
    const ptyIds = connection.loseAll(`the terminal host (pid ${connection.hostPid}) ${reason}`);
    this.options.onHostLost?.(connection.hostPid, ptyIds);
  }
}

/** The host's entry: beside this module when built; from the sources (tests), in the build. */
export function hostEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'main.js');
  if (existsSync(beside)) return beside;
  const built = resolve(here, '../../../dist/actors/pty/host/main.js');
  if (existsSync(built)) return built;
  throw new LanevisorError('SPAWN_ERROR', `the terminal host's entry is missing (${beside}); run npm run build`);
}

/** One authenticated connection to a host: requests and their replies, the sessions by channel, the heartbeat. */
class HostConnection {
  hostPid = 0;
  readonly #decoder = new FrameDecoder();
  readonly #waiting = new Map<number, { resolve(message: HostMessage): void; reject(error: Error): void }>();
  readonly #sessions = new Map<number, HostSession>();
  #nextId = 1;
  #lastHeard = performance.now();
  #heartbeat: NodeJS.Timeout | undefined;
  #ending = false;
  #gone = false;

  constructor(
    private readonly socket: Socket,
    private readonly onLost: (reason: string) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.#gone || this.#closed(this.#ending ? 'closed' : 'died (its connection closed)'));
  }

  async hello(token: string, options: HostBackendOptions): Promise<void> {
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
      throw new LanevisorError(
        'INVALID_STATE',
        `the terminal host refused this runtime: ${'reason' in welcome ? welcome.reason : welcome.t}`,
      );
    }
    this.hostPid = welcome.hostPid;
    this.#heartbeat = setInterval(() => this.#beat(), HOST_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  request(message: Extract<ClientMessage, { id: number }>): Promise<HostMessage> {
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
        return { data: reply.data, cols: reply.cols, rows: reply.rows };
      },
      closed: () => this.#sessions.delete(channel),
    });
    this.#sessions.set(channel, session);
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
        this.#sessions.get(frame.channel)?.output(frame.offset, frame.data);
        continue;
      }
      if (frame.kind !== FrameKind.CONTROL) continue;
      const message = frame.message as HostMessage;
      if ('id' in message) {
        this.#waiting.get(message.id)?.resolve(message);
        this.#waiting.delete(message.id);
      } else if (message.t === 'welcome' || message.t === 'refused') {
        this.#waiting.get(0)?.resolve(message);
        this.#waiting.delete(0);
      } else if ('channel' in message) this.#sessions.get(message.channel)?.notice(message);
    }
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
    clearInterval(this.#heartbeat);
    for (const waiter of this.#waiting.values())
      waiter.reject(new LanevisorError('INVALID_STATE', `the terminal host ${reason}`));
    this.#waiting.clear();
    if (!this.#ending) this.onLost(reason);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
