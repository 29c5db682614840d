import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { errorMessage } from '../../../bus/errors.js';
import type { PtyDriver } from '../driver.js';
import { withBindLock } from './bind-lock.js';
import { type Frame, FrameDecoder, FrameKind, MAX_FRAME_BYTES } from './framing.js';
import type { Link } from './host-channels.js';
import type { HostPaths } from './host-paths.js';
import { ensureSocketDir, tokensMatch } from './host-paths.js';
import {
  answers,
  type ClientMessage,
  HOST_IDLE_EXIT_MS,
  HOST_PROTOCOL_VERSION,
  type HostRefusal,
  send,
} from './host-protocol.js';
import type { HostedPty } from './hosted-pty.js';
import { RuntimeLink } from './runtime-link.js';
import { SCREEN_PERSIST_MS, ScreenKeeper } from './screen-keeper.js';
import { ViewerLink } from './viewer-link.js';

/**
 * The terminal host: one process per state directory, in its own session, holding the PTYs of
 * the runtimes that use it so that they outlive those runtimes. It listens on a local socket;
 * every connection proves itself with the token first. A runtime that goes away without saying
 * goodbye leaves its PTYs running (and reading, up to their buffers) for its `lingerMs`, for the
 * next runtime to adopt; after that they are stopped, whole trees, TERM then KILL. The host exits
 * once it has served no connection and held no PTY for `idleExitMs`, or when its state directory
 * is gone.
 */
export interface HostServerOptions {
  readonly stateDir: string;
  readonly paths: HostPaths;
  readonly token: string;
  readonly driver: PtyDriver;
  readonly log: (line: string) => void;
  readonly idleExitMs?: number;
  /** Called when the host has nothing left to do; the process exits then. */
  readonly onIdle: () => void;
}

/** A connection that has not said hello with the token by then is closed. */
export const HOST_AUTH_TIMEOUT_MS = 2_000;
/**
 * The longest frame taken before the hello is accepted (a hello is well under 1 KiB): a
 * connection that has not proved who it is never gets the host to set aside MAX_FRAME_BYTES.
 * Clients send nothing more until they are welcomed, so no long frame shares a read with a hello.
 */
export const HELLO_MAX_FRAME_BYTES = 16 * 1024;
/** How often the host looks whether it is idle, or its state directory gone. */
const IDLE_CHECK_MS = 500;

export class HostServer {
  readonly ptys = new Map<string, HostedPty>();
  readonly #links = new Set<Link>();
  readonly #server: Server;
  #idleSince = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #screenTimer: NodeJS.Timeout | undefined;
  readonly #screens: ScreenKeeper;
  #closing = false;

  constructor(private readonly options: HostServerOptions) {
    this.#server = createServer((socket) => this.#accept(socket));
    this.#screens = new ScreenKeeper(options.stateDir, options.log);
  }

  /** Listens on the socket; resolves false when another live host already does (this one should exit). */
  async listen(): Promise<boolean> {
    ensureSocketDir(this.options.paths.socketDir);
    return withBindLock(this.options.paths.socket, () => this.#bind());
  }

  async #bind(): Promise<boolean> {
    const { socket } = this.options.paths;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          this.#server.once('error', reject);
          this.#server.listen(socket, () => {
            this.#server.off('error', reject);
            resolve();
          });
        });
        this.#timer = setInterval(() => this.#checkIdle(), IDLE_CHECK_MS);
        this.#screenTimer = setInterval(() => void this.#screens.persist(this.ptys.values()), SCREEN_PERSIST_MS);
        this.options.log(`listening on ${socket}`);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        if (await answers(socket)) {
          this.options.log(`another host answers on ${socket}; leaving`);
          return false;
        }
        // Nothing answers: a socket a dead host left. Only now is it removed.
        this.options.log(`removing the stale socket ${socket}`);
        unlinkSync(socket);
      }
    }
    return false;
  }

  /** Every PTY stopped (whole trees), every connection closed, the socket removed. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#timer);
    clearInterval(this.#screenTimer);
    for (const link of this.#links) link.socket.destroy();
    for (const pty of this.ptys.values()) pty.session.close();
    this.ptys.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A runtime's connection ended: its PTYs linger (or, when it said so, are ended). */
  release(link: RuntimeLink, lingerMs: number): void {
    for (const pty of this.ptys.values()) {
      if (pty.runtimeId !== link.runtimeId || link.owns(pty) === false) continue;
      pty.runtimeId = null;
      this.#linger(pty, lingerMs, link.graceMs);
    }
  }

  /** Forgets a PTY; `done`: its runtime is done with it, so its kept screen goes too. */
  forget(pty: HostedPty, done = true): void {
    if (done) this.#screens.forget(pty.ptyId);
    this.ptys.delete(pty.ptyId);
    clearTimeout(lingerTimers.get(pty));
    lingerTimers.delete(pty);
  }

  adopted(pty: HostedPty, runtimeId: string): void {
    clearTimeout(lingerTimers.get(pty));
    lingerTimers.delete(pty);
    pty.runtimeId = runtimeId;
    pty.lastRuntimeId = runtimeId;
  }

  log(line: string): void {
    this.options.log(line);
  }

  get driver(): PtyDriver {
    return this.options.driver;
  }

  #linger(pty: HostedPty, lingerMs: number, graceMs: number): void {
    this.log(`${pty.ptyId} lingers ${lingerMs} ms without a runtime`);
    // One that ends by itself meanwhile is gone: there is nothing left to adopt.
    const forgetAtExit = { ...IGNORE, treeGone: () => undefined, exited: () => this.#forgetIfLingering(pty) };
    pty.listeners.add(forgetAtExit);
    if (pty.exit !== null) this.#forgetIfLingering(pty);
    const end = () => {
      this.log(`${pty.ptyId}: no runtime came back; stopping it`);
      pty.ending = true;
      pty.session.signalTree(['SIGHUP', 'SIGTERM']);
      const kill = setTimeout(() => pty.session.killTree(), graceMs);
      const done = () => {
        clearTimeout(kill);
        pty.session.close();
        // Its screen stays, for a runtime that starts it again.
        this.forget(pty, false);
      };
      if (pty.exit !== null && pty.treeGone) done();
      else pty.listeners.add({ ...IGNORE, treeGone: done });
    };
    if (lingerMs === 0) end();
    else lingerTimers.set(pty, setTimeout(end, lingerMs));
  }

  #forgetIfLingering(pty: HostedPty): void {
    if (pty.runtimeId !== null || !this.ptys.has(pty.ptyId)) return;
    this.log(`${pty.ptyId} ended while lingering`);
    pty.session.close();
    this.forget(pty, false);
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const decoder = new FrameDecoder(HELLO_MAX_FRAME_BYTES);
    let link: Link | undefined;
    const auth = setTimeout(() => {
      // A loop held past the limit runs its expired timers before it reads: a hello that arrived
      // meanwhile waits in the socket's buffer, and is read before this looks (setImmediate).
      setImmediate(() => {
        if (link !== undefined || socket.destroyed) return;
        this.log('a connection did not say hello in time; closed');
        socket.destroy();
      });
    }, HOST_AUTH_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        this.log(`refused a connection: ${errorMessage(error)}`);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (link !== undefined) {
          link.receive(frame);
          continue;
        }
        const greeting = frame.kind === FrameKind.CONTROL ? (frame.message as ClientMessage) : undefined;
        const refusal = this.#refusalOf(greeting);
        if (refusal !== undefined) {
          this.log(`refused a connection: ${refusal.reason}`);
          send(socket, refusal);
          socket.end();
          socket.destroy();
          return;
        }
        clearTimeout(auth);
        const hello = greeting as Extract<ClientMessage, { t: 'hello' }>;
        link =
          hello.role === 'runtime'
            ? new RuntimeLink(this, socket, hello.runtimeId as string, hello.lingerMs ?? 0, hello.graceMs ?? 5_000)
            : new ViewerLink(this, socket);
        this.#links.add(link);
        decoder.maxFrameBytes = MAX_FRAME_BYTES;
        send(socket, { t: 'welcome', hostPid: process.pid, version: HOST_PROTOCOL_VERSION });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(auth);
      if (link === undefined) return;
      this.#links.delete(link);
      link.closed();
      this.#idleSince = performance.now();
    });
  }

  #refusalOf(hello: ClientMessage | undefined): HostRefusal | undefined {
    const refused = (reason: string): HostRefusal => ({ t: 'refused', reason });
    if (hello === undefined || hello.t !== 'hello') return refused('the first message must be hello');
    if (!tokensMatch(this.options.token, hello.token)) return refused('wrong token');
    if (hello.version !== HOST_PROTOCOL_VERSION) {
      // Said only to a client with the token: what it needs to tell its user (see host-refusal.ts).
      return {
        ...refused(`protocol ${String(hello.version)} is not ${HOST_PROTOCOL_VERSION}`),
        version: HOST_PROTOCOL_VERSION,
        hostPid: process.pid,
        heldPtys: this.ptys.size,
      };
    }
    if (hello.role === 'runtime' && (typeof hello.runtimeId !== 'string' || hello.runtimeId.length === 0)) {
      return refused('a runtime must say its id');
    }
    if (hello.role !== 'runtime' && hello.role !== 'viewer') return refused('unknown role');
    return undefined;
  }

  #checkIdle(): void {
    if (!existsSync(this.options.stateDir)) {
      this.log('the state directory is gone; exiting');
      this.options.onIdle();
      return;
    }
    if (this.#links.size > 0 || this.ptys.size > 0) {
      this.#idleSince = performance.now();
      return;
    }
    if (performance.now() - this.#idleSince >= (this.options.idleExitMs ?? HOST_IDLE_EXIT_MS)) {
      this.log('idle; exiting');
      this.options.onIdle();
    }
  }
}

const lingerTimers = new WeakMap<HostedPty, NodeJS.Timeout>();
const IGNORE = {
  output: () => undefined,
  exited: () => undefined,
  signaled: () => undefined,
  resized: () => undefined,
};
