import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { resolveRepository } from '../../actors/git/repository.js';
import { encodeControl, FrameDecoder, FrameKind } from '../../actors/pty/host/framing.js';
import { readToken } from '../../actors/pty/host/host-paths.js';
import type { Attached, ViewerEvents } from '../../actors/pty/host/host-viewer.js';
import { isErrorCode, LanevisorError } from '../../bus/errors.js';
import { stateDirOf } from '../runtime/runtime-setup.js';
import type { ControlMethod } from './commands.js';
import {
  CONTROL_MAX_FRAME_BYTES,
  type ControlErrorBody,
  type ControlServerMessage,
  controlPathsOf,
} from './control-protocol.js';

/**
 * A client of a live runtime's control socket (the command line's way to a runtime in another
 * process). `connectRuntime` answers `null` at once when no runtime listens: no socket file, or
 * one a dead runtime left (connect refused), so the caller proceeds as with none alive.
 */
export interface RuntimeConnection {
  readonly runtimeId: string;
  readonly pid: number;
  request(method: ControlMethod, payload?: unknown): Promise<unknown>;
  /** `lane.exec` with its output as it comes, stdin forwarded, and `signal` stopping it. */
  exec(
    payload: ExecPayload,
    io: {
      readonly onStdout?: (chunk: string) => void;
      readonly onStderr?: (chunk: string) => void;
      readonly stdin?: NodeJS.ReadableStream;
      readonly signal?: AbortSignal;
    },
  ): Promise<unknown>;
  /** A PTY's output from its oldest retained byte, then live; resolves with its exit. */
  follow(ptyId: string, onOutput: (data: string) => void): Promise<{ exitCode: number | null; signal: string | null }>;
  /** A PTY's screen, then its output (as `lanevisor attach` shows it); resolves once the screen is there. */
  view(ptyId: string, options: ViewOptions, events: ViewerEvents): Promise<Attached>;
  close(): void;
}

export interface ExecPayload {
  readonly laneId: string;
  readonly argv: readonly string[];
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ViewOptions {
  readonly readOnly?: boolean;
  readonly cols?: number;
  readonly rows?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onChunk?: (stream: 'stdout' | 'stderr', data: string) => void;
  onOutput?: (data: string) => void;
  onScreen?: (screen: { data: string; cols: number; rows: number }) => void;
}

export async function connectRuntime(options: {
  readonly repo: string;
  readonly stateDir?: string;
}): Promise<RuntimeConnection | null> {
  const stateDir = stateDirOf(await resolveRepository(options.repo), options.stateDir);
  const paths = controlPathsOf(stateDir);
  if (!existsSync(paths.socket) || !existsSync(paths.tokenFile)) return null;
  const socket = await connected(paths.socket);
  if (socket === null) return null;
  return handshake(socket, readToken(paths.tokenFile));
}

function connected(path: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(null));
  });
}

function handshake(socket: Socket, token: string): Promise<RuntimeConnection | null> {
  const decoder = new FrameDecoder(CONTROL_MAX_FRAME_BYTES);
  return controlConnectionOver(
    {
      send: (message) => socket.write(encodeControl(message)),
      close: () => socket.end(),
      listen: (onMessage, onClose) => {
        socket.on('close', onClose);
        socket.on('error', () => socket.destroy());
        socket.on('data', (chunk: Buffer) => {
          for (const frame of decoder.push(chunk)) {
            if (frame.kind === FrameKind.CONTROL) onMessage(frame.message as ControlServerMessage);
          }
        });
      },
    },
    token,
  );
}

/** What carries the control protocol's messages both ways, in order: the control socket, or NATS. */
export interface ControlTransport {
  send(message: unknown): void;
  close(): void;
  /** `onClose` once the transport is gone (no more messages either way). */
  listen(onMessage: (message: ControlServerMessage) => void, onClose: () => void): void;
}

/** A runtime connection over any control transport: hello, then requests, execs, follows and views by id. */
export function controlConnectionOver(transport: ControlTransport, token: string): Promise<RuntimeConnection | null> {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const { send } = transport;
  return new Promise((resolveConnection) => {
    let connection: RuntimeConnection | null = null;
    const gone = () => {
      if (connection === null) resolveConnection(null);
      for (const waiter of pending.values()) {
        waiter.reject(new LanevisorError('INVALID_STATE', 'the runtime went away before it answered'));
      }
      pending.clear();
    };
    const start: Start = (message, waiter) => {
      const id = nextId++;
      const result = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject, ...waiter }));
      send({ ...message, id });
      return { id, result };
    };
    const call = (message: Record<string, unknown>, waiter: Waiter) => start(message, waiter).result;
    transport.listen((message) => {
      if (message.type === 'welcome') {
        connection = {
          runtimeId: message.runtimeId,
          pid: message.pid,
          request: (method, payload = {}) => call({ type: 'request', method, payload }, {}),
          exec: (payload, io) => execOver(start, send, payload, io),
          follow: (ptyId, onOutput) =>
            call({ type: 'follow', ptyId }, { onOutput }) as Promise<{
              exitCode: number | null;
              signal: string | null;
            }>,
          view: (ptyId, options, events) => viewOver(start, send, ptyId, options, events),
          close: () => transport.close(),
        };
        resolveConnection(connection);
        return;
      }
      const waiter = pending.get(message.id);
      if (waiter === undefined) return;
      if (message.type === 'chunk') waiter.onChunk?.(message.stream, message.data);
      else if (message.type === 'output') waiter.onOutput?.(message.data);
      else if (message.type === 'screen') waiter.onScreen?.(message);
      else if (message.type === 'notice') return;
      else {
        pending.delete(message.id);
        if (message.type === 'exit') waiter.resolve({ exitCode: message.exitCode, signal: message.signal });
        else if (message.ok) waiter.resolve(message.result);
        else waiter.reject(errorFrom(message.error));
      }
    }, gone);
    send({ type: 'hello', token });
  });
}

type Waiter = Omit<Pending, 'resolve' | 'reject'>;
type Start = (message: Record<string, unknown>, waiter: Waiter) => { id: number; result: Promise<unknown> };

function execOver(
  start: Start,
  send: (message: unknown) => void,
  payload: ExecPayload,
  io: Parameters<RuntimeConnection['exec']>[1],
): Promise<unknown> {
  const { id, result } = start(
    { type: 'request', method: 'lane.exec', payload, stream: true },
    { onChunk: (stream, data) => (stream === 'stdout' ? io.onStdout : io.onStderr)?.(data) },
  );
  const cancel = () => send({ type: 'cancel', id });
  io.signal?.addEventListener('abort', cancel, { once: true });
  const stdin = io.stdin;
  const forward = (data: Buffer | string) => send({ type: 'stdin', id, data: data.toString() });
  const end = () => send({ type: 'stdin-end', id });
  stdin?.on('data', forward);
  stdin?.once('end', end);
  return result.finally(() => {
    io.signal?.removeEventListener('abort', cancel);
    stdin?.off('data', forward);
    stdin?.off('end', end);
    // Flowing stdin would keep this process alive after the command is done.
    stdin?.pause();
  });
}

function viewOver(
  start: Start,
  send: (message: unknown) => void,
  ptyId: string,
  options: ViewOptions,
  events: ViewerEvents,
): Promise<Attached> {
  return new Promise((resolve, reject) => {
    let attached = false;
    const { id, result } = start(
      { type: 'view', ptyId, ...options },
      {
        onOutput: (data) => events.output(data),
        onScreen: (screen) => {
          if (attached) {
            events.redraw(screen.data, screen.cols, screen.rows);
            return;
          }
          attached = true;
          resolve({
            screen: screen.data,
            cols: screen.cols,
            rows: screen.rows,
            write: (data) =>
              send({ type: 'view-input', id, data: typeof data === 'string' ? data : Buffer.from(data).toString() }),
            resize: (cols, rows) => send({ type: 'view-resize', id, cols, rows }),
            shown: (chars) => send({ type: 'view-ack', id, chars }),
            detach: async () => {
              attached = false;
              send({ type: 'view-end', id });
            },
          });
        },
      },
    );
    result.then(
      (exit) => {
        if (attached) events.exited(exit as { exitCode: number | null; signal: string | null });
      },
      (error: Error) => {
        if (attached) events.lost(error.message);
        else reject(error);
      },
    );
  });
}

/** The LanevisorError a control reply's error body stands for (an unknown code is INTERNAL_ERROR). */
export function errorFrom(error: ControlErrorBody): LanevisorError {
  const code = isErrorCode(error.code) ? error.code : 'INTERNAL_ERROR';
  const details = error.details as Record<string, unknown> | undefined;
  return new LanevisorError(code, error.message, details === undefined ? {} : { details });
}
