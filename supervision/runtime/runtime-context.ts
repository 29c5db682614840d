import type { Repository } from '../../actors/git/repository.js';
import type { HostBackend } from '../../actors/pty/host/host-client.js';
import type { TaskBackend } from '../../actors/task/task-backend.js';
import type { RuntimeId } from '../../bus/ids.js';
import type { LocalBus } from '../../bus/local-bus.js';
import type { RestartIntensity } from '../../machines/restart-policy.js';
import type { LanevisorConfig } from '../config/config-schema.js';
import type { PtyFactory } from '../pty/pty-factory.js';
import type { LaneRecordStore } from '../state/lane-records.js';
import type { ProcessJournal } from '../state/process-journal.js';

/** What every lane of one runtime shares: where things live and the runtime's settings. */
export interface RuntimeContext {
  readonly bus: LocalBus;
  readonly runtimeId: RuntimeId;
  readonly repository: Repository;
  readonly stateDir: string;
  readonly worktreeRoot: string;
  readonly records: LaneRecordStore;
  /** Running PTYs and the runtimes that may have left processes. */
  readonly journal: ProcessJournal;
  readonly ptys: PtyFactory;
  readonly task: TaskBackend;
  readonly taskHealth: { readonly intervalMs: number; readonly stallTimeoutMs: number };
  readonly restartIntensity: RestartIntensity;
  /** Grace between SIGTERM and SIGKILL for an exec that timed out or was stopped. */
  readonly execGraceMs: number;
  /** The environment commands and terminals start from (taken once). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** The terminal host's client, when terminals run there (`pty.host: 'process'`). */
  readonly ptyHost: HostBackend | null;
  /** The repository's lanevisor.json (empty without one). */
  readonly config: LanevisorConfig;
}
