/**
 * The HTTP API's answers as the page reads them (docs/api.md; the server's zod schemas are the
 * authority). Only what the page uses is named here.
 */
export type Activity = 'working' | 'waiting' | 'idle';
export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface PtyInfo {
  readonly id: string;
  readonly laneId: string;
  readonly name: string;
  readonly pid: number;
  readonly state: string;
  readonly cols: number;
  readonly rows: number;
  readonly restart: RestartType;
  readonly restarts: number;
  readonly activity: Activity | null;
  readonly lastLine: string | null;
}

export interface LaneView {
  readonly id: string;
  readonly label: string | null;
  readonly state: string;
  readonly branch: string;
  readonly baseRef: string;
  readonly worktreePath: string;
  readonly port: number | null;
  readonly agents: readonly string[];
  /** Why it is blocked, null while it is not (absent from a runtime that does not say). */
  readonly blockReason?: string | null;
  /** Shared, also while blocked or running (absent from a runtime that does not say). */
  readonly shared?: boolean;
  readonly createdAt: number;
  readonly ptys: readonly PtyInfo[];
  /** Whose lane it is, when the server shows several runtimes (`serve --nats`). */
  readonly runtime?: RuntimeRef;
}

export interface RuntimeRef {
  readonly id: string;
  readonly host: string;
  readonly repo: string;
}

export interface RuntimeInfo {
  readonly id: string;
  readonly pid: number;
  readonly repo: string;
  readonly stateDir: string;
  readonly ptyHost: { readonly pid: number } | null;
  /** With `serve --nats`: this runtime first, then every other that answers. */
  readonly runtimes?: readonly RuntimeRef[];
}

export interface ExecResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

export interface CleanupReport {
  readonly laneId: string;
  readonly branch: string;
  readonly branchKept: boolean;
  readonly salvagedRef: string | null;
  readonly ptysStopped: number;
  readonly teardown?: { readonly ok: boolean; readonly message?: string };
}

export interface DiffFile {
  readonly path: string;
  readonly status: string;
  readonly additions: number | null;
  readonly deletions: number | null;
}

export interface LaneDiff {
  readonly base: string;
  readonly files: readonly DiffFile[];
  readonly patch: string;
}

export interface Conflict {
  readonly lanes: readonly string[];
  readonly files: readonly string[];
}

/** A bus event as `/api/events` carries it. */
export interface BusEvent {
  readonly id: string;
  readonly topic: string;
  readonly sequence: number;
  readonly timestamp: number;
  readonly payload: Record<string, unknown>;
}
