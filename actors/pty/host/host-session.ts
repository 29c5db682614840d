import type { Socket } from 'node:net';
import { LanevisorError } from '../../../bus/errors.js';
import { TreeSignaller } from '../../process/tree-signaller.js';
import type { PtyScreen, PtySession, PtySessionEvents, PtyStarted, PtyStartRequest } from '../backend.js';
import { Utf8Pieces } from '../utf8-pieces.js';
import { encodeInput } from './framing.js';
import { type HostMessage, send } from './host-protocol.js';

/** Output received but not acknowledged to the host, at most, before an acknowledgement goes out at once. */
export const ACK_EVERY_BYTES = 64 * 1024;
/**
 * Otherwise an acknowledgement waits this long for more output to cover: one per keystroke's
 * echo would cost the host a message to parse before the next keystroke.
 */
export const ACK_DELAY_MS = 20;

interface SessionPeer {
  snapshot(scrollbackLines: number | undefined): Promise<PtyScreen>;
  closed(): void;
}

/**
 * A PTY in the terminal host, as the runtime sees it: a `PtySession` over the host's socket.
 * Input is bounded here by what the host has not reported taken yet; output is acknowledged to
 * the host (by offset) as it arrives, so the host keeps only what this runtime has not received.
 * Frames carry bytes as the terminal read them: a character split between two is delivered with
 * the second, and acknowledged only then, so a runtime adopting the PTY after this one starts on a
 * character's first byte.
 */
export class HostSession implements PtySession {
  #sent = 0;
  #taken = 0;
  #received: number;
  readonly #text = new Utf8Pieces();
  #acked: number;
  #ackQueued = false;
  #done = false;

  constructor(
    private readonly socket: Socket,
    readonly channel: number,
    private readonly request: PtyStartRequest,
    readonly started: PtyStarted,
    private readonly events: PtySessionEvents,
    fromOffset: number,
    private readonly peer: SessionPeer,
  ) {
    this.#received = fromOffset;
    this.#acked = fromOffset;
  }

  get ptyId(): string {
    return this.request.ptyId;
  }

  get pendingInputBytes(): number {
    return this.#sent - this.#taken;
  }

  get outputOffset(): number {
    return this.#received - this.#text.heldBytes;
  }

  write(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.byteLength === 0 || this.#done) return;
    const pending = this.pendingInputBytes;
    const max = this.request.maxPendingInputBytes;
    if (pending + bytes.byteLength > max) {
      throw new LanevisorError(
        'BACKPRESSURE',
        `the terminal has ${pending} bytes of input waiting; ${bytes.byteLength} more would pass the ${max}-byte bound. Wait for the program to read, then write again`,
        { details: { pendingBytes: pending, maxPendingBytes: max } },
      );
    }
    this.#sent += bytes.byteLength;
    this.socket.write(encodeInput(this.channel, bytes));
  }

  resize(cols: number, rows: number): void {
    this.#send({ t: 'resize', channel: this.channel, cols, rows });
  }

  signalGroup(signal: string): void {
    this.#send({ t: 'signal', channel: this.channel, signal });
  }

  signalTree(signals: readonly string[]): void {
    this.#send({ t: 'signalTree', channel: this.channel, signals });
  }

  killTree(): void {
    this.#send({ t: 'killTree', channel: this.channel });
  }

  pause(): void {
    this.#send({ t: 'pause', channel: this.channel });
  }

  resume(): void {
    this.#send({ t: 'resume', channel: this.channel });
  }

  snapshot(options: { readonly scrollbackLines?: number } = {}): Promise<PtyScreen> {
    return this.peer.snapshot(options.scrollbackLines);
  }

  close(): void {
    if (this.#done) return;
    this.#ackNow();
    this.#send({ t: 'close', channel: this.channel });
    this.#finish();
  }

  /** This runtime lets go of the PTY without ending it (it leaves, keeping its PTYs for the next one). */
  release(): void {
    if (this.#done) return;
    this.#ackNow();
    this.#finish();
  }

  /** An OUTPUT frame for this channel. */
  output(offset: number, data: Buffer): void {
    if (this.#done) return;
    // A batch the runtime already has (sent again after a reconnection) is skipped, a partly new one cut.
    const end = offset + data.byteLength;
    if (end <= this.#received) return;
    const fresh = offset < this.#received ? data.subarray(this.#received - offset) : data;
    this.#received = end;
    const text = this.#text.write(fresh);
    if (text.length > 0) this.events.data(text, this.#text.decodedBytes);
    if (this.outputOffset - this.#acked >= ACK_EVERY_BYTES) this.#ackNow();
    else if (!this.#ackQueued) {
      this.#ackQueued = true;
      setTimeout(() => this.#ackNow(), ACK_DELAY_MS).unref();
    }
  }

  /** A control notice for this channel. */
  notice(message: HostMessage): void {
    if (this.#done) return;
    switch (message.t) {
      case 'inputTaken':
        this.#taken = Math.max(this.#taken, message.taken);
        break;
      case 'exited': {
        // Nothing follows: a character the program left unfinished is shown as U+FFFD.
        const rest = this.#text.end();
        if (rest.length > 0) this.events.data(rest, this.#text.decodedBytes);
        this.#ackNow();
        this.events.exited(message.exit);
        break;
      }
      case 'treeGone':
        this.events.treeGone();
        break;
      case 'signaled':
        this.events.signaled(message.record);
        break;
      case 'resized':
        this.events.resized?.(message.cols, message.rows);
        break;
    }
  }

  /** The host is gone: what of the PTY still runs is stopped by its tag, and the PTY is reported lost. */
  lose(reason: string): void {
    if (this.#done) return;
    this.#finish();
    const leader = { pid: this.started.pid, startTime: this.started.startTime };
    const signaller = new TreeSignaller(
      { leader, tag: this.request.tag },
      () => undefined,
      () => undefined,
    );
    signaller.kill();
    setTimeout(() => signaller.stop(), 5_000).unref();
    this.events.lost(reason);
  }

  #ackNow(): void {
    this.#ackQueued = false;
    const upTo = this.outputOffset;
    if (upTo <= this.#acked || this.#done) return;
    this.#acked = upTo;
    this.#send({ t: 'ack', channel: this.channel, offset: this.#acked });
  }

  #send(message: Parameters<typeof send>[1]): void {
    if (!this.#done) send(this.socket, message);
  }

  #finish(): void {
    this.#done = true;
    this.peer.closed();
  }
}
