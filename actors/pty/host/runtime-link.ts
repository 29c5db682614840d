import type { Socket } from 'node:net';
import { LanevisorError } from '../../../bus/errors.js';
import { encodeOutput, type Frame, FrameKind, writeOutputFrame } from './framing.js';
import { Channels, type Link } from './host-channels.js';
import { type ClientMessage, errorReply, send } from './host-protocol.js';
import type { HostServer } from './host-server.js';
import { HostedPty } from './hosted-pty.js';
import { OutputWindow } from './output-window.js';

/**
 * A runtime's connection: it starts, adopts and drives PTYs and gets their output in frames
 * carrying the byte offset of their first byte (see output-window.ts), acknowledging what it
 * received.
 */
/** While input waits in a terminal, how often its runtime hears how much was taken. */
const INPUT_REPORT_MS = 10;

export class RuntimeLink extends Channels implements Link {
  #bye: { keepPtys: boolean } | undefined;
  readonly #windows = new Map<number, OutputWindow>();
  readonly #inputReceived = new Map<number, number>();
  #inputTimer: NodeJS.Timeout | undefined;

  constructor(
    host: HostServer,
    socket: Socket,
    readonly runtimeId: string,
    readonly lingerMs: number,
    readonly graceMs: number,
  ) {
    super(host, socket);
  }

  receive(frame: Frame): void {
    if (frame.kind === FrameKind.INPUT) {
      const pty = this.ptyOf(frame.channel);
      if (pty === undefined || pty.exit !== null) return;
      try {
        pty.session.write(frame.data);
      } catch (error) {
        this.host.log(`${pty.ptyId}: input refused: ${(error as Error).message}`);
      }
      this.#inputReceived.set(frame.channel, (this.#inputReceived.get(frame.channel) ?? 0) + frame.data.byteLength);
      this.#reportInput();
      return;
    }
    if (frame.kind !== FrameKind.CONTROL) return;
    void this.#handle(frame.message as ClientMessage).catch((error: unknown) => {
      this.host.log(`a request failed: ${(error as Error).message}`);
    });
  }

  override closed(): void {
    for (const window of this.#windows.values()) window.stop();
    clearTimeout(this.#inputTimer);
    const keep = this.#bye?.keepPtys ?? true;
    if (!keep) {
      for (const [, pty] of this.channels()) {
        pty.session.close();
        this.host.forget(pty);
      }
    } else this.host.release(this, this.lingerMs);
    super.closed();
  }

  async #handle(message: ClientMessage): Promise<void> {
    switch (message.t) {
      case 'start': {
        try {
          if (this.host.ptys.has(message.request.ptyId)) {
            throw new LanevisorError('ALREADY_EXISTS', `the host already runs ${message.request.ptyId}`);
          }
          const pty = new HostedPty(
            this.host.driver,
            message.request,
            message.meta,
            message.outputBufferBytes,
            this.runtimeId,
          );
          this.host.ptys.set(pty.ptyId, pty);
          const channel = this.#attach(pty);
          send(this.socket, { t: 'started', id: message.id, channel, started: pty.started });
        } catch (error) {
          send(this.socket, errorReply(message.id, error));
        }
        return;
      }
      case 'adopt': {
        const pty = this.host.ptys.get(message.ptyId);
        if (pty === undefined || pty.ending || (pty.runtimeId !== null && pty.runtimeId !== this.runtimeId)) {
          send(
            this.socket,
            errorReply(message.id, new LanevisorError('NOT_FOUND', `the host runs no ${message.ptyId} to adopt`)),
          );
          return;
        }
        this.host.adopted(pty, this.runtimeId);
        const info = pty.info();
        const channel = this.#attach(pty);
        send(this.socket, { t: 'adopted', id: message.id, channel, info });
        // What its previous runtime never acknowledged, in order, then live output and its ending.
        for (const chunk of pty.retained()) this.socket.write(encodeOutput(channel, chunk.offset, chunk.data));
        if (pty.exit !== null) send(this.socket, { t: 'exited', channel, exit: pty.exit });
        return;
      }
      case 'end': {
        const pty = this.host.ptys.get(message.ptyId);
        if (pty !== undefined && pty.runtimeId === null) {
          pty.session.close();
          this.host.forget(pty);
        }
        send(this.socket, { t: 'ended', id: message.id });
        return;
      }
      case 'list':
        send(this.socket, { t: 'ptys', id: message.id, ptys: [...this.host.ptys.values()].map((pty) => pty.info()) });
        return;
      case 'snapshot': {
        const pty = this.host.ptys.get(message.ptyId);
        if (pty === undefined) {
          send(
            this.socket,
            errorReply(message.id, new LanevisorError('NOT_FOUND', `the host runs no ${message.ptyId}`)),
          );
          return;
        }
        const screen = await pty.snapshot(message.scrollbackLines);
        send(this.socket, {
          t: 'snapshot',
          id: message.id,
          data: screen.data,
          cols: screen.cols,
          rows: screen.rows,
          offset: screen.offset,
        });
        return;
      }
      case 'ping':
        send(this.socket, { t: 'pong', id: message.id });
        return;
      case 'bye':
        this.#bye = { keepPtys: message.keepPtys };
        return;
      default:
        this.#command(message);
    }
  }

  #command(message: ClientMessage): void {
    if (!('channel' in message)) return;
    const pty = this.ptyOf(message.channel);
    if (pty === undefined) return;
    switch (message.t) {
      case 'resize':
        pty.resize(message.cols, message.rows, this.listenerOf(pty));
        break;
      case 'signal':
        pty.session.signalGroup(message.signal);
        break;
      case 'signalTree':
        pty.session.signalTree(message.signals);
        break;
      case 'killTree':
        pty.session.killTree();
        break;
      case 'pause':
        pty.setRuntimePaused(true);
        break;
      case 'resume':
        pty.setRuntimePaused(false);
        break;
      case 'ack':
        if (message.offset !== undefined) pty.acknowledge(message.offset);
        break;
      case 'close':
        this.#windows.get(message.channel)?.flush();
        this.#windows.delete(message.channel);
        pty.session.close();
        this.drop(message.channel);
        this.host.forget(pty);
        break;
    }
  }

  #attach(pty: HostedPty): number {
    return this.open(pty, (channel) => {
      const window = new OutputWindow((offset, chunks, bytes) => {
        if (!this.socket.destroyed) writeOutputFrame(this.socket, channel, offset, chunks, bytes);
      });
      this.#windows.set(channel, window);
      return {
        output: (chunk, offset) => window.push(offset, chunk),
        exited: (exit) => {
          window.flush();
          send(this.socket, { t: 'exited', channel, exit });
        },
        treeGone: () => send(this.socket, { t: 'treeGone', channel }),
        signaled: (record) => send(this.socket, { t: 'signaled', channel, record }),
        resized: (cols, rows) => send(this.socket, { t: 'resized', channel, cols, rows }),
      };
    });
  }

  /** Tells the runtime how much of its input each terminal took, until none waits. */
  #reportInput(): void {
    if (this.#inputTimer !== undefined) return;
    this.#inputTimer = setTimeout(() => {
      this.#inputTimer = undefined;
      let waiting = false;
      for (const [channel, received] of this.#inputReceived) {
        const pty = this.ptyOf(channel);
        const pending = pty?.session.pendingInputBytes ?? 0;
        send(this.socket, { t: 'inputTaken', channel, taken: received - Math.min(pending, received) });
        if (pending > 0) waiting = true;
      }
      if (waiting) this.#reportInput();
    }, INPUT_REPORT_MS);
  }
}
