/**
 * The messages between a PTY machine and its process actor (the effectful side, in actors/).
 * Defined here so that the machine stays free of any import from the effectful layers.
 */

/** What the machine asks of the process actor. */
export type PtyProcessCommand =
  | { readonly type: 'PAUSE' }
  | { readonly type: 'RESUME' }
  | { readonly type: 'RESIZE'; readonly cols: number; readonly rows: number }
  /** One signal to the PTY's process group. */
  | { readonly type: 'SIGNAL'; readonly signal: string }
  /** Graceful stop: these signals to the group, the session and every tagged process; then watch them. */
  | { readonly type: 'SIGNAL_TREE'; readonly signals: readonly string[] }
  /** Forced stop: SIGKILL to every process of the PTY, again for any that appears, until none is left. */
  | { readonly type: 'KILL_TREE' };

/** What the process actor reports to the machine. */
export type PtyProcessEvent =
  | { readonly type: 'SPAWNED'; readonly pid: number }
  | { readonly type: 'SPAWN_FAILED'; readonly message: string }
  /** The child exited and the last byte of output has been delivered. */
  | { readonly type: 'EXITED'; readonly exitCode: number | null; readonly signal: string | null }
  /** No process of the PTY is left (after SIGNAL_TREE or KILL_TREE). */
  | { readonly type: 'TREE_GONE' }
  /** The backend lost the terminal (its host died): nothing more will be heard of it. */
  | { readonly type: 'LOST'; readonly reason: string };

export type ThrottleReason = 'backpressure' | 'idle';

/** The public states of a PTY (the contract's `pty.state`). */
export type PtyState = 'idle' | 'spawning' | 'active' | 'throttled' | 'errored' | 'stopped';

/** Why the last transition happened; published with `pty.state_changed`. */
export type PtyTransitionReason =
  | 'created'
  | 'spawn'
  | 'spawned'
  | 'spawn_failed'
  | 'backpressure'
  | 'drained'
  | 'idle'
  | 'output'
  | 'terminating'
  | 'exited'
  | 'crashed'
  | 'terminated'
  | 'lost';
