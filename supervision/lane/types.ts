import type { CommandResult } from '../../actors/exec/run-command.js';
import type { CommitResult } from '../../actors/git/commit.js';
import type { LaneDiff } from '../../actors/git/diff.js';
import type { MergeResult } from '../../actors/git/merge.js';
import type { LaneId } from '../../bus/ids.js';
import type { LANE_STATES } from '../../bus/lifecycle.js';
import type { Pty, SpawnPtyOptions } from '../pty/types.js';
import type { MergeOptions } from './lane-workflow.js';

export type LaneState = (typeof LANE_STATES)[number];

export interface CreateLaneOptions {
  /** `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`, no `..`, not ending in `.lock` or `.`; the branch is `lane/<label>`. */
  readonly label?: string;
  /** What the lane's branch starts from. Default `HEAD`. */
  readonly baseRef?: string;
  /** The lane's first attached agent. */
  readonly agent?: string;
  /** A preset of lanevisor.json's `templates` (setup, sparse, env, baseRef); NOT_FOUND when it has none of that name. */
  readonly template?: string;
  /** `false`: make the lane without running lanevisor.json's setup. */
  readonly setup?: false;
}

export interface ExecOptions {
  /** The command's whole process tree is killed after this long; the result says `timedOut`. */
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Piped to the command's stdin until it ends; without it the command reads /dev/null. */
  readonly stdin?: NodeJS.ReadableStream;
  /** The command's output as it comes (the result still holds all of it). */
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
  /** Aborting stops the command's whole tree (SIGTERM, then SIGKILL after the exec grace). */
  readonly signal?: AbortSignal;
}

/** What `lane.exec` resolves with: the command's result as the exec actor reports it. */
export type ExecResult = CommandResult;

export interface CleanupOptions {
  /** Remove uncommitted work and a branch with unique commits instead of keeping them. */
  readonly discard?: boolean;
}

export interface CleanupReport {
  readonly laneId: LaneId;
  readonly branch: string;
  readonly branchKept: boolean;
  readonly salvagedRef: string | null;
  readonly ptysStopped: number;
  readonly durationMs: number;
  /** When lanevisor.json has `teardown.run`: whether every command succeeded, and what failed. */
  readonly teardown?: { readonly ok: boolean; readonly message?: string };
}

/** An isolated track of work: a worktree and branch, a task, terminals and agents (the contract's `Lane`). */
export interface Lane {
  readonly id: LaneId;
  readonly label: string | null;
  readonly branch: string;
  readonly baseRef: string;
  readonly worktreePath: string;
  /** Its LANEVISOR_PORT when lanevisor.json has `ports`, else null. */
  readonly port: number | null;
  /** When the lane was made (epoch ms; kept across re-adoption). */
  readonly createdAt: number;
  readonly state: LaneState;
  readonly agents: readonly string[];
  /** Why it is blocked (`block(reason)`, or its task stalled), null while it is not. */
  readonly blockReason: string | null;
  /**
   * Whether it is shared (`share()`), also while it is blocked or runs an exec, when `state`
   * says that instead; false again once its last agent left.
   */
  readonly shared: boolean;
  spawnPty(options?: SpawnPtyOptions): Promise<Pty>;
  ptys(): Pty[];
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  share(): Promise<void>;
  attach(agentId: string): Promise<void>;
  detach(agentId: string): Promise<void>;
  block(reason: string): Promise<void>;
  unblock(): Promise<void>;
  cleanup(options?: CleanupOptions): Promise<CleanupReport>;
  /** Committed, uncommitted and untracked changes against the lane's base commit (or `base`). */
  diff(options?: { readonly base?: string }): Promise<LaneDiff>;
  /** Everything in the worktree (`git add -A && git commit`); `commit: null` when there was nothing. */
  commit(message: string): Promise<CommitResult>;
  /** The lane's committed work into a branch: CONFLICT (files in details.files) changes nothing. */
  merge(options?: MergeOptions): Promise<MergeResult>;
}

export type { CommitResult, LaneDiff, MergeOptions, MergeResult };
