import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Runtime } from '../index.js';
import { assertAuthorized, assertHost, assertOrigin } from './auth.js';
import type { CommandRouter } from './command-router.js';
import { errorResponse, HttpError } from './errors.js';
import { MAX_WS_CLIENTS, MAX_WS_MESSAGE_BYTES } from './limits.js';
import { attachViewer } from './pty-viewer.js';
import { attachRemoteViewer } from './remote-viewer.js';
import { SECURITY_HEADERS } from './security-headers.js';

const STREAM_PATH = /^\/api\/ptys\/([^/]+)\/stream$/;

/** Terminal streams over WebSocket: every upgrade is checked (Host, Origin, token, PTY, capacity) before it is accepted. */
export class PtyStreams {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  readonly #clients = new Set<WebSocket>();

  constructor(
    private readonly rt: Runtime,
    private readonly router: CommandRouter,
    private readonly token: string,
    private readonly hosts: () => ReadonlySet<string>,
  ) {}

  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      assertHost(this.hosts(), request.headers.host);
      assertOrigin(this.hosts(), request.headers.origin);
      assertAuthorized(this.token, request.headers);
      const match = STREAM_PATH.exec(path);
      if (match === null)
        throw new HttpError(404, 'NOT_FOUND', `no WebSocket at ${path}; terminals stream at /api/ptys/<ptyId>/stream`);
      const ptyId = decodeURIComponent(match[1] as string);
      const pty = this.rt.getPty(ptyId);
      const owner = pty === undefined ? await this.router.ownerOf({ ptyId }) : undefined;
      if (pty === undefined && owner === undefined) {
        throw new HttpError(404, 'NOT_FOUND', `no PTY ${ptyId} in this runtime's lanes`);
      }
      if (this.#clients.size >= MAX_WS_CLIENTS) {
        throw new HttpError(503, 'CAPACITY', `at most ${MAX_WS_CLIENTS} terminal streams at once; close one and retry`);
      }
      this.#wss.handleUpgrade(request, socket, head, (ws) => {
        this.#clients.add(ws);
        ws.on('close', () => this.#clients.delete(ws));
        ws.on('error', () => ws.terminate());
        if (pty !== undefined) attachViewer(ws, pty);
        else void attachRemoteViewer(ws, this.router.connect(owner as string), ptyId);
      });
    } catch (error) {
      rejectUpgrade(socket, error);
    }
  }

  close(): Promise<void> {
    const closed = [...this.#clients].map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          ws.terminate();
        }),
    );
    this.#clients.clear();
    return Promise.all(closed).then(() => new Promise<void>((resolve) => this.#wss.close(() => resolve())));
  }
}

function rejectUpgrade(socket: Duplex, error: unknown): void {
  const { status, body } = errorResponse(error);
  const text = JSON.stringify(body);
  const headers = {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    Connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${text}`);
}
