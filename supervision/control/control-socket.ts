import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeControl, FrameDecoder, FrameKind } from '../../actors/pty/host/framing.js';
import { ensureSocketDir, ensureToken, tokensMatch } from '../../actors/pty/host/host-paths.js';
import { LanevisorError } from '../../bus/errors.js';
import { parseOrThrow } from '../../bus/validation.js';
import type { Runtime } from '../runtime/types.js';
import {
  CONTROL_AUTH_TIMEOUT_MS,
  CONTROL_MAX_FRAME_BYTES,
  clientMessageSchema,
  controlPathsOf,
} from './control-protocol.js';
import { ControlSession } from './control-session.js';

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
    const session = new ControlSession(this.rt, {
      send: (message) => {
        if (!socket.destroyed) socket.write(encodeControl(message));
      },
      backlogged: () => socket.writableNeedDrain,
      drained: () => drainedOrClosed(socket),
    });
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
