import type { SignalRecord } from '../process/tree-signaller.js';
import type { PtyExit, PtySpawnRequest } from './driver.js';

/**
 * The seam between lanevisor's terminal logic (the PTY machine, its process actor, the handles)
 * and whatever runs the pseudo-terminals: node-pty in this process (`host: 'inline'`), or the
 * terminal host process reached over a socket (`host: 'process'`). Everything that crosses it is
 * asynchronous where a socket is: a start resolves once the child runs, input is bounded by
 * what the other side has not yet taken, the stop of a whole process tree is reported when no
 * process is left, and a backend can lose its terminals (the host died).
 */
export type { PtyExit, PtySpawnRequest } from './driver.js';

/** Lines of history a terminal's mirror keeps for snapshots, unless asked otherwise. */
export const DEFAULT_SCROLLBACK_LINES = 1_000;

export interface PtyStartRequest {
  readonly ptyId: string;
  /** `file` may be a bare command name: the backend resolves it against the request's PATH. */
  readonly spawn: PtySpawnRequest;
  /** The variable (and value) that marks every process started in this PTY. */
  readonly tag: { readonly name: string; readonly value: string };
  /** Input accepted and not yet taken by the terminal, at most; past it `write` throws BACKPRESSURE. */
  readonly maxPendingInputBytes: number;
  /** Lines of history the terminal's mirror keeps for snapshots (default 1000). */
  readonly scrollbackLines?: number;
  /** What a runtime adopting the PTY after a crash needs of it (restart type, name, …); kept as it is by the host. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Shown before the program's own output (a screen restored from before a reboot): put in the mirror first. */
  readonly preface?: string;
}

/** A terminal's screen as escape sequences, and the size it was drawn at. */
export interface PtyScreen {
  readonly data: string;
  readonly cols: number;
  readonly rows: number;
  /**
   * The output the screen shows, in bytes counted as the session's `outputOffset`: what comes
   * after this offset is not on it. It may be ahead of what `data` has delivered yet (output on
   * its way from the host) or behind it (output delivered while the screen was being drawn).
   */
  readonly offset: number;
}

/** A running terminal's child, as the start reports it. */
export interface PtyStarted {
  readonly pid: number;
  /** forkpty makes the child the leader of a new session and process group. */
  readonly pgid: number;
  readonly sid: number;
  /** From /proc/<pid>/stat, to tell this process from a later one with the same pid. */
  readonly startTime: number;
  readonly ptsName: string;
  /** The file that was executed. */
  readonly file: string;
}

/** What a session reports, in order. Nothing is reported after `exited` or `lost`, but `treeGone`. */
export interface PtySessionEvents {
  /**
   * Output, in order, with multibyte characters kept whole. `bytes`: how many bytes of the
   * terminal's output it came from (its UTF-8 length unless the output was not UTF-8); offsets
   * (`outputOffset`, a screen's `offset`) count these.
   */
  data(chunk: string, bytes?: number): void;
  /** The child exited and the last byte of its output has been delivered. */
  exited(exit: PtyExit): void;
  /** After `signalTree` or `killTree`: no process of the PTY is left. */
  treeGone(): void;
  signaled(record: SignalRecord): void;
  /** The backend lost the terminal (its host died): its processes are no longer watched. */
  lost(reason: string): void;
  /** Someone else resized the terminal (a viewer attached through the host): its size now. */
  resized?(cols: number, rows: number): void;
}

export interface PtySession {
  readonly started: PtyStarted;
  /** Bytes accepted by `write` and not yet taken by the terminal. */
  readonly pendingInputBytes: number;
  /** The offset just past the last byte `data` delivered (a host's count starts where its output was retained from). */
  readonly outputOffset: number;
  /** Ordered, never dropped; a write that would pass the input bound is refused whole (BACKPRESSURE). */
  write(data: string | Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** One signal to the PTY's process group. */
  signalGroup(signal: string): void;
  /** Graceful stop: these signals to the group, the session and every tagged process; `treeGone` follows. */
  signalTree(signals: readonly string[]): void;
  /** Forced stop: SIGKILL to every process of the PTY, again for any that appears, until none is left. */
  killTree(): void;
  /** Stops reading output (the child blocks on write); what was already under way may still arrive. */
  pause(): void;
  resume(): void;
  /** The screen and up to `scrollbackLines` lines of history, from the terminal's mirror. */
  snapshot(options?: { readonly scrollbackLines?: number }): Promise<PtyScreen>;
  /** Last resort: SIGKILL to what still runs, every descriptor released; no event follows. */
  close(): void;
}

export interface PtyBackend {
  readonly kind: 'inline' | 'process';
  /** Starts the terminal; rejects with SPAWN_ERROR when it cannot (no such command, no descriptors left). */
  start(request: PtyStartRequest, events: PtySessionEvents): Promise<PtySession>;
  /** Takes over a terminal a dead runtime left running (`request` as it was started); only a host can. */
  adopt?(request: PtyStartRequest, events: PtySessionEvents): Promise<PtySession>;
}
