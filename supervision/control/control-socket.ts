import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { encodeControl, FrameDecoder, FrameKind } from '../../actors/pty/host/framing.js';
import { ensureSocketDir, ensureToken, tokensMatch } from '../../actors/pty/host/host-paths.js';
import { LanevisorError } from '../../bus/errors.js';
import { parseOrThrow } from '../../bus/validation.js';
import type { Runtime } from '../runtime/types.js';
import { CONTROL_COMMAND_TIMEOUT_MS, CONTROL_COMMANDS, type CommandContext, type ControlMethod } from './commands.js';
import {
  CONTROL_AUTH_TIMEOUT_MS,
  CONTROL_MAX_FRAME_BYTES,
  type ControlClientMessage,
  type ControlErrorBody,
  type ControlServerMessage,
  clientMessageSchema,
  controlPathsOf,
} from './control-protocol.js';
import { ControlViews } from './control-views.js';

/**
 * Every runtime's control socket: how `lanevisor ls`, `exec`, `clean`, `spawn`, `status` and
 * `logs` in another process reach a live runtime instead of failing with LOCKED. A thin adapter
 * over the bus commands (requests go through `bus.request`, so they carry correlation and the
 * commands' validation), except an exec asked to stream, which gets its output, stdin and
 * cancellation from the connection, and the follows and views of PTYs. Only the state directory's lock holder listens, so a socket
 * file found at start is a dead runtime's and is replaced.
 */
export class ControlSocket {
  readonly #connections = new Set<Socket>();

  private constructor(
    private readonly rt: Runtime,
    private readonly server: Server,
    readonly path: string,
    private readonly token: string,
  ) {}

  static async listen(rt: Runtime): Promise<ControlSocket> {
    const paths = controlPathsOf(rt.stateDir);
    ensureSocketDir(paths.socketDir);
    const token = ensureToken(paths.tokenFile);
    const server = createServer();
    const control = new ControlSocket(rt, server, paths.socket, token);
    server.on('connection', (socket) => control.#accept(socket));
    removeStale(paths.socket);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(paths.socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return control;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.#connections) socket.destroy();
    await closed;
    removeStale(this.path);
  }

  #accept(socket: Socket): void {
    this.#connections.add(socket);
    socket.on('close', () => this.#connections.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder(CONTROL_MAX_FRAME_BYTES);
    const session = new ControlSession(this.rt, socket);
    let authenticated = false;
    const authTimer = setTimeout(() => socket.destroy(), CONTROL_AUTH_TIMEOUT_MS);
    socket.on('close', () => {
      clearTimeout(authTimer);
      session.end();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          if (frame.kind !== FrameKind.CONTROL) throw new LanevisorError('VALIDATION_ERROR', 'not a control frame');
          const message = parseOrThrow(clientMessageSchema, frame.message, 'message');
          if (!authenticated) {
            if (message.type !== 'hello' || !tokensMatch(this.token, message.token)) {
              socket.destroy();
              return;
            }
            authenticated = true;
            clearTimeout(authTimer);
            session.send({ type: 'welcome', runtimeId: this.rt.id, pid: process.pid });
            continue;
          }
          session.receive(message);
        }
      } catch {
        socket.destroy();
      }
    });
  }
}

/** One client's requests in flight: their exec streams and follows, stopped when it goes away. */
class ControlSession {
  readonly #streams = new Map<number, { stdin: PassThrough; abort: AbortController }>();
  readonly #follows = new Set<AbortController>();
  readonly #views: ControlViews;

  constructor(
    private readonly rt: Runtime,
    private readonly socket: Socket,
  ) {
    this.#views = new ControlViews(rt, (message) => this.send(message), errorOf);
  }

  send(message: ControlServerMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeControl(message));
  }

  receive(message: ControlClientMessage): void {
    switch (message.type) {
      case 'request':
        void this.#request(message.id, message.method, message.payload, message.stream === true);
        return;
      case 'stdin':
        this.#streams.get(message.id)?.stdin.write(message.data);
        return;
      case 'stdin-end':
        this.#streams.get(message.id)?.stdin.end();
        return;
      case 'cancel':
        this.#streams.get(message.id)?.abort.abort();
        return;
      case 'follow':
        void this.#follow(message.id, message.ptyId);
        return;
      case 'hello':
        return;
      default:
        this.#views.receive(message);
    }
  }

  /** The client went away: what it started streaming is stopped, as Ctrl-C in its shell would. */
  end(): void {
    for (const stream of this.#streams.values()) stream.abort.abort();
    for (const follow of this.#follows) follow.abort();
    this.#views.end();
  }

  async #request(id: number, method: string, payload: unknown, stream: boolean): Promise<void> {
    try {
      const result =
        stream && method === 'lane.exec'
          ? await this.#streamedExec(id, payload)
          : await this.rt.bus.request(method, payload ?? {}, { timeoutMs: CONTROL_COMMAND_TIMEOUT_MS });
      this.send({ type: 'reply', id, ok: true, result: result ?? null });
    } catch (error) {
      this.send({ type: 'reply', id, ok: false, error: errorOf(error) });
    }
  }

  async #streamedExec(id: number, payload: unknown): Promise<unknown> {
    const command = CONTROL_COMMANDS['lane.exec' satisfies ControlMethod];
    const input = parseOrThrow(command.input, payload ?? {}, 'lane.exec');
    const stdin = new PassThrough();
    const abort = new AbortController();
    this.#streams.set(id, { stdin, abort });
    const context: CommandContext = {
      stdin,
      signal: abort.signal,
      onStdout: (data) => this.send({ type: 'chunk', id, stream: 'stdout', data }),
      onStderr: (data) => this.send({ type: 'chunk', id, stream: 'stderr', data }),
    };
    try {
      return await command.run(this.rt, input as Parameters<typeof command.run>[1], context);
    } finally {
      this.#streams.delete(id);
      stdin.destroy();
    }
  }

  /** A PTY's output from its oldest retained byte, live, until it exits; paced by the socket. */
  async #follow(id: number, ptyId: string): Promise<void> {
    const pty = this.rt.getPty(ptyId);
    if (pty === undefined) {
      const error = new LanevisorError('NOT_FOUND', `no PTY ${ptyId} in this runtime's lanes`);
      this.send({ type: 'reply', id, ok: false, error: errorOf(error) });
      return;
    }
    const abort = new AbortController();
    this.#follows.add(abort);
    try {
      for await (const data of pty.output()) {
        if (abort.signal.aborted) return;
        this.send({ type: 'output', id, data });
        if (this.socket.writableNeedDrain) await drainedOrClosed(this.socket);
      }
      const exit = await pty.exited;
      this.send({ type: 'exit', id, exitCode: exit.exitCode, signal: exit.signal });
    } finally {
      this.#follows.delete(abort);
    }
  }
}

function errorOf(error: unknown): ControlErrorBody {
  if (error instanceof LanevisorError) return error.toJSON();
  return { code: 'INTERNAL_ERROR', message: 'the runtime failed to answer; see its log' };
}

function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // None there.
  }
}
