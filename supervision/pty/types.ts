import type { LaneId, PtyId } from '../../bus/ids.js';
import type { PTY_STATES } from '../../bus/lifecycle.js';

export type PtyState = (typeof PTY_STATES)[number];

export type RestartType = 'permanent' | 'transient' | 'temporary';

/** `lane.spawnPty(opts)`. The cwd is the lane's worktree. */
export interface SpawnPtyOptions {
  /** Default: the user's shell ($SHELL, else bash from PATH). */
  readonly command?: string;
  readonly args?: readonly string[];
  /** Default 80. */
  readonly cols?: number;
  /** Default 24. */
  readonly rows?: number;
  /** Merged over the base environment; the lanevisor tag variables always win. */
  readonly env?: Readonly<Record<string, string>>;
  /** The terminal type ($TERM). Default `xterm-256color`. */
  readonly name?: string;
  readonly sessionId?: string;
  readonly terminalId?: string;
  /** What the lane supervisor does when the child ends. Default `temporary` (never restarted). */
  readonly restart?: RestartType;
}

export interface PtyExitResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

export interface PtyTerminateResult extends PtyExitResult {
  /** SIGKILL was needed. */
  readonly escalated: boolean;
}

/** A real terminal in a lane (the contract's `Pty`). */
export interface Pty {
  readonly id: PtyId;
  readonly laneId: LaneId;
  /** The real child (the shell or command), not a helper. */
  readonly pid: number;
  readonly state: PtyState;
  readonly cols: number;
  readonly rows: number;
  readonly name: string;
  readonly sessionId: string | null;
  readonly terminalId: string | null;
  readonly restart: RestartType;
  /** How many times the supervisor restarted this PTY. */
  readonly restarts: number;
  /** `working` (printing or using CPU), `waiting` (blocked on the terminal's input), `idle`; null when not running. */
  readonly activity: 'working' | 'waiting' | 'idle' | null;
  /** Ordered; an accepted write is never dropped. INVALID_STATE unless active or throttled; BACKPRESSURE past the input bound. */
  write(data: string | Uint8Array): void;
  /** Integers 1..10000, else INVALID_ARGUMENT; INVALID_STATE once the child has exited. */
  resize(cols: number, rows: number): void;
  /** A signal by name (`SIGINT`, `SIGHUP`, …) to the PTY's process group. */
  signal(name: string): void;
  /**
   * Every output chunk in order from subscription on, with the byte offset of its first byte in
   * the PTY's whole output (as `pty.output` events and `screen()` count); returns the unsubscribe function.
   */
  onData(listener: (chunk: string, offset: number) => void): () => void;
  /** A pulling consumer with its own cursor, from the oldest retained byte to the last byte. */
  output(): AsyncIterable<string>;
  /** The retained recent output (at most outputBufferBytes); with `lastChars`, only its last that many characters. */
  scrollback(options?: { readonly lastChars?: number }): string;
  /**
   * The terminal's current screen plus up to `scrollbackLines` lines of history, as escape
   * sequences: written into a fresh terminal of the PTY's size it shows what a viewer attached
   * from the start would see (the alternate screen of a running vim included).
   */
  snapshot(options?: { readonly scrollbackLines?: number }): Promise<string>;
  /**
   * The snapshot with the size it was drawn at and the byte offset of the output it shows up to:
   * a viewer subscribed with `onData` shows the screen, then only what lies past `offset`, and
   * sees every byte exactly once (`viewPty` does this).
   */
  screen(options?: { readonly scrollbackLines?: number }): Promise<PtyScreenAt>;
  /** SIGHUP and SIGTERM to every process of the PTY, SIGKILL after the grace. Idempotent. */
  terminate(options?: { readonly graceMs?: number }): Promise<PtyTerminateResult>;
  /** Resolves once the PTY is finally done, after its last output chunk was delivered. */
  readonly exited: Promise<PtyExitResult>;
}

/** A terminal's screen, its size, and the byte offset in its output up to which the screen shows it. */
export interface PtyScreenAt {
  readonly data: string;
  readonly cols: number;
  readonly rows: number;
  readonly offset: number;
}
