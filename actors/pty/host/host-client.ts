import { existsSync } from 'node:fs';
import { LanevisorError } from '../../../bus/errors.js';
import { stopProcessTrees } from '../../process/tree-signaller.js';
import { DEFAULT_SCROLLBACK_LINES, type PtyBackend, type PtySessionEvents, type PtyStartRequest } from '../backend.js';
import { HostConnection, isConnectionLoss } from './host-connection.js';
import { launchHost } from './host-launch.js';
import { ensureSocketDir, ensureToken, hostPathsOf } from './host-paths.js';
import { answers, dial, HOST_IDLE_EXIT_MS, type HostPtyInfo } from './host-protocol.js';
import type { RefusalDetails } from './host-refusal.js';
import type { HostSession } from './host-session.js';

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
export const HOST_MAX_RESTARTS = 5;
export const HOST_RESTART_PERIOD_MS = 60_000;
const HOST_RESTART_BACKOFF_MS = 100;
const CONNECT_POLL_MS = 20;
/** How long a host of another protocol that holds nothing is waited for to exit (its idle exit, and some). */
export const OTHER_PROTOCOL_EXIT_WAIT_MS = HOST_IDLE_EXIT_MS + 2_000;
const OTHER_PROTOCOL_POLL_MS = 100;
/** How long a start the host died in the middle of may take to be stopped before it is started again. */
const STRAY_STOP_GIVE_UP_MS = 2_000;

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

  /**
   * Starts a PTY in the host. When the host dies with the start in flight, whatever it may have
   * started is stopped by its tag and the PTY is started on a new host (once: a second loss is
   * the caller's error).
   */
  async start(request: PtyStartRequest, events: PtySessionEvents): Promise<HostSession> {
    try {
      return await this.#startOn(await this.#connect(), request, events);
    } catch (error) {
      if (!isConnectionLoss(error)) throw error;
      await stopProcessTrees({ tag: request.tag }, { graceMs: 0, giveUpAfterMs: STRAY_STOP_GIVE_UP_MS });
      return this.#startOn(await this.#connect(), request, events);
    }
  }

  async #startOn(connection: HostConnection, request: PtyStartRequest, events: PtySessionEvents): Promise<HostSession> {
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
    const started = launchHost(this.options.stateDir, this.options.env ?? process.env);
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
    const socket = await dial(paths.socket);
    if (socket === undefined) return undefined;
    const connection = new HostConnection(socket, (reason) => this.#lost(connection, reason));
    try {
      await connection.hello(ensureToken(paths.tokenFile), this.options, paths.logFile);
    } catch (error) {
      if (!(await this.#outlivedOtherProtocol(error, paths.socket))) throw error;
      return undefined;
    }
    if (keep) this.#connection = connection;
    return connection;
  }

  /**
   * After an upgrade, the host of the version before may still run. One that holds no PTYs exits
   * by itself once idle (HOST_IDLE_EXIT_MS), and then a host of this version can start: waited
   * for (true once it is gone). One that holds PTYs, or does not go, is the caller's error, which
   * says what to do.
   */
  async #outlivedOtherProtocol(error: unknown, socket: string): Promise<boolean> {
    const details = error instanceof LanevisorError ? (error.details as RefusalDetails | undefined) : undefined;
    if (details?.hostProtocol === undefined || (details.heldPtys ?? 0) > 0) return false;
    const deadline = performance.now() + OTHER_PROTOCOL_EXIT_WAIT_MS;
    while (performance.now() < deadline) {
      await delay(OTHER_PROTOCOL_POLL_MS);
      if (!(await answers(socket))) return true;
    }
    return false;
  }

  #lost(connection: HostConnection, reason: string): void {
    if (this.#connection === connection) this.#connection = undefined;
    if (this.#closed) return;
    this.#losses.push(performance.now());
    const ptyIds = connection.loseAll(`the terminal host (pid ${connection.hostPid}) ${reason}`);
    this.options.onHostLost?.(connection.hostPid, ptyIds);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
