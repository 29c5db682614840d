/**
 * The task bound to a lane: what the agent works on. A backend binds one when the lane is
 * provisioned, answers whether it is healthy while the lane lives, and ends it at cleanup.
 * Bindings are plain JSON, kept in the lane's record so a later runtime can end them too.
 */
export interface TaskLane {
  readonly laneId: string;
  readonly label: string | null;
  /** The main working tree of the repository. */
  readonly repo: string;
  readonly worktreePath: string;
  readonly branch: string;
  readonly baseSha: string;
  readonly runtimeId: string;
}

export interface TaskBinding {
  /** The backend's name. */
  readonly backend: string;
  /** What the backend needs to find its task again (JSON). */
  readonly facts: Readonly<Record<string, unknown>>;
}

export interface TaskBackend {
  readonly name: string;
  /** Binds a task to a freshly provisioned lane; SPAWN_ERROR when the backend's tool is missing. */
  bind(lane: TaskLane): Promise<TaskBinding>;
  /** Whether the task responds; a task unhealthy for the stall timeout is killed and the lane blocked. */
  health(binding: TaskBinding, lane: TaskLane): Promise<boolean>;
  /** Ends the task (forcefully if it must); ending an already ended task is not an error. */
  terminate(binding: TaskBinding, lane: TaskLane): Promise<void>;
}
