import type { RestartIntensity, RestartType } from '../restart-policy.js';

/**
 * Types shared by the lane machine and the layers around it: its input, context and events, and
 * the public lane states.
 */
export type LaneState = 'new' | 'provisioning' | 'ready' | 'running' | 'blocked' | 'shared' | 'cleaning' | 'closed';

/** What the lane knows of one supervised PTY child. */
export interface PtyChild {
  /** Restarts spawn a new child actor (`<ptyId>~<generation>`) under the same PTY id. */
  readonly generation: number;
  readonly restart: RestartType;
  readonly graceMs: number;
  /** Restarts within the intensity period (each one is forgotten when the period has passed). */
  readonly recentRestarts: number;
  /** running: a child is alive; restarting: waiting for its backoff; finished: no child any more. */
  readonly status: 'running' | 'restarting' | 'finished';
}

/** Which cleanup step failed, to resume from it when cleanup is asked again. */
export type CleanupStep = 'stoppingTask' | 'salvaging' | 'removingWorktree' | 'removingBranch' | 'removingRecord';

export interface LaneMachineInput {
  readonly laneId: string;
  readonly correlationId: string;
  readonly agents?: readonly string[];
  /** A resumed lane that was shared. */
  readonly shared?: boolean;
  /** A resumed lane that a person had blocked, with their reason. */
  readonly blockReason?: string;
  /** A lane found ready or half cleaned by a new runtime starts there instead of `new`. */
  readonly resumeAs?: 'ready' | 'cleaning';
  /** For a lane resumed as `cleaning`: whether its cleanup discards (known before any step runs). */
  readonly discard?: boolean;
  readonly restartIntensity: RestartIntensity;
}

export interface LaneContext {
  readonly laneId: string;
  /** The operation the lane is working for: its events carry this correlation id. */
  readonly correlationId: string;
  readonly resumeAs: 'ready' | 'cleaning' | null;
  readonly agents: readonly string[];
  readonly shared: boolean;
  readonly blockReason: string | null;
  /** Execs whose actors run, and those waiting for their turn on an unshared lane. */
  readonly running: readonly string[];
  readonly queued: readonly string[];
  readonly ptys: Readonly<Record<string, PtyChild>>;
  /** PTY ids in start order; they are stopped in reverse. */
  readonly ptyOrder: readonly string[];
  readonly restartIntensity: RestartIntensity;
  readonly cleanupRequested: boolean;
  readonly discard: boolean;
  /** Why provisioning failed, or the last cleanup step's error. */
  readonly failure: string | null;
  readonly failedStep: CleanupStep | null;
  readonly salvagedRef: string | null;
  readonly branchKept: boolean;
}

type WithCorrelation = { readonly correlationId?: string };

export type LaneEvent =
  | ({ readonly type: 'PROVISION' } & WithCorrelation)
  | ({
      readonly type: 'SPAWN_PTY';
      readonly ptyId: string;
      readonly restart: RestartType;
      readonly graceMs: number;
      /** A PTY taken over from a dead runtime goes on with its generation (default 1). */
      readonly generation?: number;
    } & WithCorrelation)
  | ({ readonly type: 'EXEC'; readonly execId: string } & WithCorrelation)
  | ({ readonly type: 'SHARE' } & WithCorrelation)
  | ({ readonly type: 'ATTACH'; readonly agentId: string } & WithCorrelation)
  | ({ readonly type: 'DETACH'; readonly agentId: string } & WithCorrelation)
  | ({ readonly type: 'BLOCK'; readonly reason: string } & WithCorrelation)
  | ({ readonly type: 'UNBLOCK' } & WithCorrelation)
  | ({ readonly type: 'CLEANUP'; readonly discard: boolean } & WithCorrelation)
  | ({ readonly type: 'SUSPEND' } & WithCorrelation)
  /** Stop a PTY for good: terminate its child, or cancel the restart it is waiting for. */
  | ({ readonly type: 'STOP_PTY'; readonly ptyId: string; readonly graceMs?: number } & WithCorrelation)
  | { readonly type: 'RESTART_PTY'; readonly ptyId: string; readonly generation: number }
  | { readonly type: 'RESTART_EXPIRED'; readonly ptyId: string }
  /** Internal: stop the next PTY (raised after the stopping state was announced). */
  | { readonly type: 'STOP_NEXT_PTY' }
  | { readonly type: 'TASK_STALLED'; readonly reason: string }
  /** A spawned child (a PTY generation, an exec run) ended, or failed. */
  | { readonly type: `xstate.done.actor.${string}`; readonly output?: unknown }
  | { readonly type: `xstate.error.actor.${string}`; readonly error: unknown };

/** What the lane machine emits for its supervisor to publish. */
export type LaneEmitted =
  /** A PTY child (its first generation or a restart) was spawned: its handle attaches to it. */
  | { readonly type: 'pty_generation_started'; readonly ptyId: string; readonly generation: number }
  | { readonly type: 'pty_restarting'; readonly ptyId: string; readonly generation: number; readonly delayMs: number }
  | { readonly type: 'pty_escalated'; readonly ptyId: string; readonly reason: string }
  | { readonly type: 'pty_finished'; readonly ptyId: string }
  | { readonly type: 'exec_started'; readonly execId: string }
  | { readonly type: 'agents_detached'; readonly agentIds: readonly string[] };

export const PTY_CHILD_SEPARATOR = '~';
export const EXEC_ID_PREFIX = 'exec_';

export function ptyChildId(ptyId: string, generation: number): string {
  return `${ptyId}${PTY_CHILD_SEPARATOR}${generation}`;
}
