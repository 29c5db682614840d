import type { z } from 'zod';
import type { LaneConflict } from '../../actors/git/conflicts.js';
import type { PtyBackend } from '../../actors/pty/backend.js';
import type { TaskBackend } from '../../actors/task/task-backend.js';
import type { LaneId, PtyId } from '../../bus/ids.js';
import type { reconciliationReportSchema } from '../../bus/lifecycle.js';
import type { Bus } from '../../bus/types.js';
import type { ServeHandle, ServeOptions } from '../control/serve-hook.js';
import type { CreateLaneOptions, Lane } from '../lane/types.js';
import type { Pty } from '../pty/types.js';

export interface RuntimeOptions {
  /** Any path inside a git repository. */
  readonly repo: string;
  /** Where records live; default `<git common dir>/lanevisor`. Created 0700. */
  readonly stateDir?: string;
  /** Where lane worktrees go; default a sibling of the main working tree: `<repo>.lanes`. */
  readonly worktreeRoot?: string;
  /** Default 64; createLane beyond it rejects with CAPACITY. */
  readonly maxLanes?: number;
  /** Default 1024. */
  readonly maxPtys?: number;
  readonly pty?: {
    /** Where terminals run: `'process'`, the terminal host, or `'inline'`, this process (node-pty). */
    readonly host?: 'process' | 'inline';
    /** How long the host keeps terminals after their runtime died (default 300,000); 0 ends them at once. */
    readonly lingerMs?: number;
    /** Lines of screen history kept for snapshots (default 1000). */
    readonly scrollbackLines?: number;
    readonly outputBufferBytes?: number;
    readonly idleTimeoutMs?: number;
    readonly terminateGraceMs?: number;
    readonly maxPendingInputBytes?: number;
  };
  /** Passed to XState's createActor for the root actor: it sees every lane, PTY and exec actor. */
  readonly inspect?: ((event: unknown) => void) | { next(event: unknown): void };
  /** A file that receives every inspection event as a sanitized JSON line (appended). */
  readonly trace?: string;
  readonly task?: 'builtin' | 'par' | TaskBackend;
  /** What runs the terminals, instead of the one `pty.host` picks (for embedding a backend of your own, and tests). */
  readonly ptyBackend?: PtyBackend;
  /** How often a lane's task health is asked, and how long it may fail before the task is killed. */
  readonly taskHealth?: { readonly intervalMs?: number; readonly stallTimeoutMs?: number };
  /** PTY restarts allowed within a period before the lane escalates (default 3 in 5 s). */
  readonly restartIntensity?: { readonly maxRestarts?: number; readonly periodMs?: number };
  /** Grace between SIGTERM and SIGKILL for commands that time out or are stopped. Default 2 s. */
  readonly execGraceMs?: number;
  /** Grace between SIGTERM and SIGKILL for processes a dead runtime left. Default 500 ms. */
  readonly reconcileGraceMs?: number;
  /**
   * Whether the startup reconciliation also removes what no record of this state directory accounts
   * for (default true). False leaves the repository's other worktrees, lane branches and their
   * markers alone: for a runtime on a state directory of its own beside another one's lanes, as
   * `lanevisor demo --repo` runs.
   */
  readonly reconcileOrphans?: boolean;
  /** A bus made with createBus(), so subscribers exist before startup. */
  readonly bus?: Bus;
}

/** What a runtime's startup found and did with what an earlier runtime left. */
export type ReconciliationReport = z.infer<typeof reconciliationReportSchema>;

export interface Runtime {
  readonly id: string;
  readonly bus: Bus;
  readonly reconciliation: ReconciliationReport;
  /** When it started (ms since the epoch). */
  readonly startedAt: number;
  /** The repository's main working tree. */
  readonly repo: string;
  /** Where lane worktrees are made. */
  readonly worktreeRoot: string;
  readonly stateDir: string;
  /** The terminal host serving this runtime (`null` when terminals run inline). */
  readonly ptyHost: { readonly pid: number } | null;
  /** Its capacity: createLane past `maxLanes` open lanes, or spawnPty past `maxPtys` running PTYs, is CAPACITY. */
  readonly limits: { readonly maxLanes: number; readonly maxPtys: number };
  /** Every lane not yet closed, provisioning ones included. */
  lanes(): Lane[];
  getLane(id: LaneId | string): Lane | undefined;
  /** A live PTY of any of its lanes. */
  getPty(id: PtyId | string): Pty | undefined;
  createLane(options?: CreateLaneOptions): Promise<Lane>;
  /** Which open lanes' committed work would conflict with each other or with their base's tip (merge-tree only). */
  conflicts(): Promise<LaneConflict[]>;
  /** An HTTP, SSE and WebSocket server for the dashboard and for programs (see docs/api.md). */
  serve(options?: ServeOptions): Promise<ServeHandle>;
  /**
   * Stops every PTY and task; keeps lanes (or cleans them with `cleanupLanes`). With `keepPtys`
   * the PTYs keep running in the terminal host, as if the runtime had died, for the next runtime
   * to take over (with terminals inline there is no host to keep them in: they are stopped).
   */
  shutdown(options?: { readonly cleanupLanes?: boolean; readonly keepPtys?: boolean }): Promise<void>;
}
