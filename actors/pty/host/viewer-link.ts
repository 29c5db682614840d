import { LanevisorError } from '../../../bus/errors.js';
import type { PtyScreen } from '../backend.js';
import { encodeOutput, type Frame, FrameKind } from './framing.js';
import { Channels, type Link, validSize } from './host-channels.js';
import { type ClientMessage, errorReply, type HostMessage, send } from './host-protocol.js';
import type { HostedPty } from './hosted-pty.js';

/**
 * A viewer's connection (`lanevisor attach`): it gets a snapshot of one PTY, then its output, and
 * may type into it and resize it. A viewer more than VIEWER_MAX_UNACKED_BYTES behind gets nothing
 * more until it caught up, then a fresh screen: it never slows the PTY or anyone else.
 */
export const VIEWER_MAX_UNACKED_BYTES = 100_000;

/** A viewer's PTY: output before `through` is on the screen it was sent. */
interface View {
  readonly readOnly: boolean;
  unacked: number;
  behind: boolean;
  through: number;
}

export class ViewerLink extends Channels implements Link {
  readonly #views = new Map<number, View>();

  receive(frame: Frame): void {
    if (frame.kind === FrameKind.INPUT) {
      const pty = this.ptyOf(frame.channel);
      const view = this.#views.get(frame.channel);
      if (pty === undefined || view === undefined || view.readOnly || pty.exit !== null) return;
      try {
        pty.session.write(frame.data);
      } catch {
        this.host.log(`${pty.ptyId}: a viewer's input was refused (the terminal is not reading)`);
      }
      return;
    }
    if (frame.kind !== FrameKind.CONTROL) return;
    void this.#handle(frame.message as ClientMessage).catch((error: unknown) => {
      this.host.log(`a viewer's request failed: ${(error as Error).message}`);
    });
  }

  async #handle(message: ClientMessage): Promise<void> {
    if (message.t === 'attach') {
      const pty = this.host.ptys.get(message.ptyId);
      if (pty === undefined) {
        send(this.socket, errorReply(message.id, new LanevisorError('NOT_FOUND', `the host runs no ${message.ptyId}`)));
        return;
      }
      const view = { readOnly: message.readOnly, unacked: 0, behind: true, through: Number.POSITIVE_INFINITY };
      const channel = this.open(pty, (channel) => ({
        output: (chunk, offset) => this.#deliver(channel, chunk, offset),
        exited: (exit) => send(this.socket, { t: 'exited', channel, exit }),
        treeGone: () => undefined,
        signaled: () => undefined,
        resized: (cols, rows) => send(this.socket, { t: 'resized', channel, cols, rows }),
      }));
      this.#views.set(channel, view);
      if (!message.readOnly && validSize(message.cols) && validSize(message.rows)) {
        pty.resize(message.cols, message.rows, this.listenerOf(pty));
      }
      await this.#sendScreen(channel, pty, view, (screen) => ({
        t: 'attached',
        id: message.id,
        channel,
        snapshot: screen.data,
        cols: screen.cols,
        rows: screen.rows,
      }));
      if (pty.exit !== null) send(this.socket, { t: 'exited', channel, exit: pty.exit });
      return;
    }
    if (message.t === 'ping') {
      send(this.socket, { t: 'pong', id: message.id });
      return;
    }
    if (message.t === 'list') {
      send(this.socket, { t: 'ptys', id: message.id, ptys: [...this.host.ptys.values()].map((pty) => pty.info()) });
      return;
    }
    if (!('channel' in message)) return;
    const pty = this.ptyOf(message.channel);
    const view = this.#views.get(message.channel);
    if (pty === undefined || view === undefined) return;
    if (message.t === 'resize' && !view.readOnly && validSize(message.cols) && validSize(message.rows)) {
      pty.resize(message.cols, message.rows, this.listenerOf(pty));
    } else if (message.t === 'detach') {
      this.drop(message.channel);
      this.#views.delete(message.channel);
    } else if (message.t === 'ack' && message.bytes !== undefined) {
      view.unacked = Math.max(0, view.unacked - message.bytes);
      if (view.behind && view.unacked === 0) await this.#redraw(message.channel, pty, view);
    }
  }

  #deliver(channel: number, chunk: Buffer, offset: number): void {
    const view = this.#views.get(channel);
    if (view === undefined || view.behind || offset < view.through) return;
    if (view.unacked > VIEWER_MAX_UNACKED_BYTES) {
      view.behind = true;
      return;
    }
    view.unacked += chunk.byteLength;
    this.socket.write(encodeOutput(channel, offset, chunk));
  }

  /**
   * The PTY's screen in `message`, then output from its offset on. A screen ends before the start
   * of a character whose rest has not come (read with what came before it, so no chunk to come
   * holds it): those bytes go right after the screen.
   */
  async #sendScreen(channel: number, pty: HostedPty, view: View, message: (screen: PtyScreen) => HostMessage) {
    const screen = await pty.snapshot();
    const held = pty.session.heldOutput;
    Object.assign(view, { behind: false, through: screen.offset + held.byteLength });
    send(this.socket, message(screen));
    if (held.byteLength === 0) return;
    view.unacked += held.byteLength;
    this.socket.write(encodeOutput(channel, screen.offset, held));
  }

  /** A viewer that fell behind and caught up: a fresh screen instead of what it missed. */
  #redraw(channel: number, pty: HostedPty, view: View): Promise<void> {
    return this.#sendScreen(channel, pty, view, (screen) => ({
      t: 'redraw',
      channel,
      snapshot: screen.data,
      cols: screen.cols,
      rows: screen.rows,
    }));
  }
}
