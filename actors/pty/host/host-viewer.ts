import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { LanevisorError } from '../../../bus/errors.js';
import type { PtyExit } from '../driver.js';
import { Utf8Pieces } from '../utf8-pieces.js';
import { encodeInput, type Frame, FrameDecoder, FrameKind } from './framing.js';
import { ensureSocketDir, hostPathsOf, readToken } from './host-paths.js';
import {
  type ClientMessage,
  dial,
  HOST_PROTOCOL_VERSION,
  type HostMessage,
  type HostPtyInfo,
  send,
} from './host-protocol.js';
import { notWelcomedError } from './host-refusal.js';

/**
 * A viewer's connection to a state directory's terminal host (`lanevisor attach`): it lists the
 * PTYs the host holds and attaches to one, getting its screen first and then its output, typing
 * into it and resizing it. It never starts a host: with none running there is nothing to see.
 */
export interface ViewerEvents {
  output(data: string): void;
  /** The viewer fell behind and caught up: draw this screen instead of what it missed. */
  redraw(screen: string, cols: number, rows: number): void;
  exited(exit: PtyExit): void;
  /** The connection to the host ended without a detach. */
  lost(reason: string): void;
}

export interface Attached {
  readonly screen: string;
  readonly cols: number;
  readonly rows: number;
  write(data: string | Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** What the viewer has shown: the host sends more once it is within its bound. */
  shown(chars: number): void;
  detach(): Promise<void>;
}

export class HostViewer {
  readonly #decoder = new FrameDecoder();
  readonly #waiting = new Map<number, (message: HostMessage) => void>();
  #text = new Utf8Pieces();
  /** Output handed to `output` and not reported shown yet: its characters, and the bytes they came in. */
  readonly #unshown: { chars: number; bytes: number }[] = [];
  /**
   * Output that came with the reply to the attach (in the same read), until whoever attached has
   * its screen: handed over before, it would be drawn before the screen, then cleared with it,
   * and never acknowledged (the host would count it unshown for good).
   */
  #early: Buffer[] | undefined;
  #events: ViewerEvents | undefined;
  #channel = 0;
  #nextId = 1;
  #detaching = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) this.#receive(frame);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const resolve of this.#waiting.values())
        resolve({ t: 'refused', reason: 'the terminal host closed the connection' });
      this.#waiting.clear();
      if (!this.#detaching) this.#events?.lost('the terminal host closed the connection');
    });
  }

  /** Connects to the host of `stateDir`; NOT_FOUND when none runs there. */
  static async connect(stateDir: string): Promise<HostViewer> {
    const paths = hostPathsOf(stateDir);
    const absent = () =>
      new LanevisorError('NOT_FOUND', `no terminal host runs for ${stateDir}: there is no terminal to attach to`);
    if (!existsSync(paths.socket) || !existsSync(paths.tokenFile)) throw absent();
    ensureSocketDir(paths.socketDir);
    const socket = await dial(paths.socket);
    if (socket === undefined) throw absent();
    const viewer = new HostViewer(socket);
    send(socket, { t: 'hello', token: readToken(paths.tokenFile), version: HOST_PROTOCOL_VERSION, role: 'viewer' });
    const welcome = await viewer.#reply(0);
    if (welcome.t !== 'welcome') {
      socket.destroy();
      throw notWelcomedError(welcome, paths.logFile);
    }
    return viewer;
  }

  async list(): Promise<HostPtyInfo[]> {
    const reply = await this.#request({ t: 'list', id: 0 });
    return reply.t === 'ptys' ? [...reply.ptys] : [];
  }

  async attach(
    ptyId: string,
    options: { readonly readOnly: boolean; readonly cols?: number; readonly rows?: number },
    events: ViewerEvents,
  ): Promise<Attached> {
    this.#events = events;
    const reply = await this.#request({ t: 'attach', id: 0, ptyId, ...options });
    if (reply.t === 'error') throw new LanevisorError(reply.code as never, reply.message);
    if (reply.t !== 'attached') throw new LanevisorError('INVALID_STATE', `the terminal host answered ${reply.t}`);
    const channel = reply.channel;
    return {
      screen: reply.snapshot,
      cols: reply.cols,
      rows: reply.rows,
      write: (data) => {
        if (!this.socket.destroyed) this.socket.write(encodeInput(channel, data));
      },
      resize: (cols, rows) => send(this.socket, { t: 'resize', channel, cols, rows }),
      shown: (chars) => this.#shown(channel, chars),
      detach: () => this.close(),
    };
  }

  /** Leaves the PTY running. */
  async close(): Promise<void> {
    this.#detaching = true;
    if (this.#channel !== 0) send(this.socket, { t: 'detach', channel: this.#channel });
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else {
        this.socket.once('close', () => resolve());
        this.socket.end();
      }
    });
  }

  #request(message: Extract<ClientMessage, { id: number }>): Promise<HostMessage> {
    const id = this.#nextId++;
    send(this.socket, { ...message, id });
    return this.#reply(id);
  }

  #reply(id: number): Promise<HostMessage> {
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  #receive(frame: Frame): void {
    if (frame.kind === FrameKind.OUTPUT) {
      if (frame.channel !== this.#channel) return;
      if (this.#early !== undefined) this.#early.push(frame.data);
      else this.#output(frame.data);
      return;
    }
    if (frame.kind !== FrameKind.CONTROL) return;
    const message = frame.message as HostMessage;
    const id = 'id' in message ? message.id : message.t === 'welcome' || message.t === 'refused' ? 0 : undefined;
    if (id !== undefined) {
      // Output follows the reply at once, often in the same read: the channel is known from here on.
      if (message.t === 'attached') {
        this.#channel = message.channel;
        this.#early = [];
        // After the attach's caller got its screen: that runs in the promise jobs of this reply.
        setImmediate(() => {
          const early = this.#early ?? [];
          this.#early = undefined;
          for (const bytes of early) this.#output(bytes);
        });
      }
      this.#waiting.get(id)?.(message);
      this.#waiting.delete(id);
      return;
    }
    if (message.t === 'redraw') {
      // The deltas after a fresh screen start on a whole character.
      this.#text = new Utf8Pieces();
      this.#events?.redraw(message.snapshot, message.cols, message.rows);
    } else if (message.t === 'exited') this.#events?.exited(message.exit);
  }

  /**
   * The host counts bytes, the viewer shows characters: each piece of text is owed the bytes it
   * came in (a frame with no whole character is owed nothing and acknowledged at once), so once
   * everything handed out is shown, everything received is acknowledged.
   */
  #output(bytes: Buffer): void {
    const text = this.#text.write(bytes);
    if (text.length === 0) {
      send(this.socket, { t: 'ack', channel: this.#channel, bytes: bytes.byteLength });
      return;
    }
    this.#unshown.push({ chars: text.length, bytes: bytes.byteLength });
    this.#events?.output(text);
  }

  #shown(channel: number, chars: number): void {
    let bytes = 0;
    let left = chars;
    while (left > 0 && this.#unshown.length > 0) {
      const head = this.#unshown[0] as { chars: number; bytes: number };
      if (head.chars <= left) {
        left -= head.chars;
        bytes += head.bytes;
        this.#unshown.shift();
      } else {
        const part = Math.floor((head.bytes * left) / head.chars);
        head.chars -= left;
        head.bytes -= part;
        bytes += part;
        left = 0;
      }
    }
    if (bytes > 0) send(this.socket, { t: 'ack', channel, bytes });
  }
}
