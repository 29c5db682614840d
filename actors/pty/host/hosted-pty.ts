import type { SignalRecord } from '../../process/tree-signaller.js';
import type { PtyScreen, PtyStarted, PtyStartRequest } from '../backend.js';
import type { PtyDriver, PtyExit } from '../driver.js';
import { LocalPtySession } from '../local-session.js';
import type { HostPtyInfo, PtyMeta } from './host-protocol.js';

/**
 * One terminal in the host: its session, the output its runtime has not acknowledged yet (kept
 * to hand, in order and once, to whoever adopts it after that runtime died), and who listens.
 * While more than `outputBufferBytes` are unacknowledged — nobody is there to take them — it
 * stops reading, so the child blocks on its write and nothing is lost.
 */
export interface PtyListener {
  /** Bytes as read from the terminal (a character may be split between two), at their byte offset. */
  output(chunk: Buffer, offset: number): void;
  exited(exit: PtyExit): void;
  treeGone(): void;
  signaled(record: SignalRecord): void;
  resized(cols: number, rows: number): void;
}

interface RetainedChunk {
  readonly offset: number;
  readonly data: Buffer;
  /** The offset just past it. */
  readonly end: number;
}

export class HostedPty {
  readonly session: LocalPtySession;
  readonly started: PtyStarted;
  cols: number;
  rows: number;
  exit: PtyExit | null = null;
  treeGone = false;
  /** Its linger ran out: the host is stopping it. */
  ending = false;
  /** The runtime driving it, by id; null while it lingers without one. */
  runtimeId: string | null;
  /** The runtime that made or last adopted it. */
  lastRuntimeId: string;
  /** What the runtime acknowledged: bytes before this offset are its own now. */
  #acked = 0;
  #total = 0;
  readonly #retained: RetainedChunk[] = [];
  #runtimePaused = false;
  #retentionPaused = false;
  readonly listeners = new Set<PtyListener>();

  constructor(
    driver: PtyDriver,
    readonly request: PtyStartRequest,
    readonly meta: PtyMeta,
    readonly outputBufferBytes: number,
    runtimeId: string,
  ) {
    this.runtimeId = runtimeId;
    this.lastRuntimeId = runtimeId;
    this.cols = request.spawn.cols;
    this.rows = request.spawn.rows;
    this.session = LocalPtySession.start(
      driver,
      request,
      {
        bytes: (chunk) => this.#onData(chunk),
        exited: (exit) => {
          this.exit = exit;
          for (const listener of this.listeners) listener.exited(exit);
        },
        treeGone: () => {
          this.treeGone = true;
          for (const listener of this.listeners) listener.treeGone();
        },
        signaled: (record) => {
          for (const listener of this.listeners) listener.signaled(record);
        },
        lost: () => undefined,
      },
      true,
    );
    this.started = this.session.started;
  }

  get ptyId(): string {
    return this.request.ptyId;
  }

  /** Bytes of output so far. */
  get total(): number {
    return this.#total;
  }

  /** The first byte its runtime did not acknowledge. */
  get acked(): number {
    return this.#acked;
  }

  info(): HostPtyInfo {
    return {
      ptyId: this.ptyId,
      runtimeId: this.lastRuntimeId,
      started: this.started,
      cols: this.cols,
      rows: this.rows,
      meta: this.meta,
      retainedFrom: this.#acked,
      total: this.#total,
      exit: this.exit,
      lingering: this.runtimeId === null,
      ending: this.ending,
    };
  }

  /** The unacknowledged output, oldest first, for a runtime that adopts the PTY. */
  retained(): readonly RetainedChunk[] {
    return this.#retained;
  }

  /** The runtime has everything before `offset`. */
  acknowledge(offset: number): void {
    if (offset <= this.#acked) return;
    this.#acked = Math.min(offset, this.#total);
    while (this.#retained.length > 0) {
      const head = this.#retained[0] as RetainedChunk;
      if (head.end > this.#acked) break;
      this.#retained.shift();
    }
    if (this.#retentionPaused && this.#total - this.#acked <= this.outputBufferBytes / 2) {
      this.#retentionPaused = false;
      this.#applyFlow();
    }
  }

  /** The runtime's own flow control (its consumers are behind). */
  setRuntimePaused(paused: boolean): void {
    this.#runtimePaused = paused;
    this.#applyFlow();
  }

  /** Everyone but `by` (who asked for it) hears of the new size. */
  resize(cols: number, rows: number, by?: PtyListener): void {
    if (this.exit !== null) return;
    this.cols = cols;
    this.rows = rows;
    this.session.resize(cols, rows);
    for (const listener of this.listeners) if (listener !== by) listener.resized(cols, rows);
  }

  /** The screen, with the offset of the output it shows (what follows it is a delta). */
  snapshot(scrollbackLines?: number): Promise<PtyScreen> {
    return this.session.snapshot(scrollbackLines === undefined ? {} : { scrollbackLines });
  }

  #onData(chunk: Buffer): void {
    const offset = this.#total;
    this.#total += chunk.byteLength;
    this.#retained.push({ offset, data: chunk, end: this.#total });
    if (!this.#retentionPaused && this.#total - this.#acked >= this.outputBufferBytes) {
      this.#retentionPaused = true;
      this.#applyFlow();
    }
    for (const listener of this.listeners) listener.output(chunk, offset);
  }

  #applyFlow(): void {
    if (this.exit !== null) return;
    if (this.#runtimePaused || this.#retentionPaused) this.session.pause();
    else this.session.resume();
  }
}
