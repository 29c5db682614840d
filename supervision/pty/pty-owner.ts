import type { PtyBackend, PtyStarted } from '../../actors/pty/backend.js';
import type { LocalBus } from '../../bus/local-bus.js';
import type { PtyOutcome } from '../../machines/pty.machine.js';
import type { ActivityClock } from './activity-watch.js';
import type { PtyMeta } from './pty-adoption.js';
// A type-only cycle: the owner is handed the controller it owns.
import type { PtyController } from './pty-controller.js';
import type { PtyProcessDirectory } from './pty-process-directory.js';
import type { PtyIdentity, ResolvedSpawn } from './spawn-request.js';

/** What a PTY's handle needs from the runtime: its limits, its owner, and where it came from. */
export interface PtyLimits {
  readonly outputBufferBytes: number;
  /** Lines of history the terminal's mirror keeps for snapshots. */
  readonly scrollbackLines: number;
  /** null: never throttle for silence. */
  readonly idleTimeoutMs: number | null;
  readonly terminateGraceMs: number;
  readonly maxPendingInputBytes: number;
}

/** What the PTY's owner (a lane supervisor, or the standalone host) does for it. */
export interface PtyOwner {
  /** A generation ended; the owner answers by `restarting()` and a new `attach()`, or by `finish()`. */
  generationEnded(pty: PtyController, outcome: PtyOutcome | undefined): void;
  /** Stop this PTY for good (and cancel a restart that is waiting). */
  terminate(pty: PtyController, graceMs: number | undefined): void;
  spawned?(pty: PtyController, started: PtyStarted): void;
}

export interface PtyControllerOptions {
  readonly bus: LocalBus;
  readonly backend: PtyBackend;
  readonly processes: PtyProcessDirectory;
  readonly identity: PtyIdentity;
  readonly spawn: ResolvedSpawn;
  readonly limits: PtyLimits;
  /** The operation that created the PTY: its events carry this id. */
  readonly correlationId: string;
  readonly owner: PtyOwner;
  /** What the terminal host keeps of the PTY for a runtime that may adopt it. */
  readonly meta: PtyMeta;
  /** Taking over a PTY a dead runtime left: where its output goes on, how often it was restarted. */
  readonly adoption?: { readonly startOffset: number; readonly restarts: number };
  /** Shown first, before the program's output (a screen restored after its processes were lost). */
  readonly preface?: string;
  /** The runtime's clock for activity watches. */
  readonly activity: ActivityClock;
}
