import { mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { type Repository, resolveRepository } from '../../actors/git/repository.js';
import { acquireProcessLock, type HeldLock } from '../../actors/process/process-lock.js';
import { builtinTask } from '../../actors/task/builtin-task.js';
import { createParTask } from '../../actors/task/par-task.js';
import type { TaskBackend } from '../../actors/task/task-backend.js';
import { errorMessage, LanevisorError } from '../../bus/errors.js';
import type { RuntimeId } from '../../bus/ids.js';
import { MAX_TIMEOUT_MS } from '../../bus/schemas.js';
import { parseOrThrow } from '../../bus/validation.js';
import type { LanevisorConfig } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { ptyLimitsSchema } from '../pty/pty-factory.js';
import { RUNTIME_ID_VARIABLE } from '../pty/spawn-request.js';
import { ensurePrivateDirectory } from '../state/atomic-file.js';
import { LaneRecordStore } from '../state/lane-records.js';
import { ProcessJournal } from '../state/process-journal.js';
import type { RuntimeOptions } from './types.js';

/**
 * What a runtime needs before it starts anything: its validated options, the repository, where
 * state and worktrees live, and the state directory's lock (one runtime per state directory).
 */
export const DEFAULT_MAX_LANES = 64;
export const DEFAULT_TASK_HEALTH = { intervalMs: 5_000, stallTimeoutMs: 30_000 };
export const DEFAULT_EXEC_GRACE_MS = 2_000;

const positiveInt = z.number().int().min(1);
export const runtimeOptionsSchema = z.strictObject({
  repo: z.string().min(1),
  stateDir: z.string().min(1).optional(),
  worktreeRoot: z.string().min(1).optional(),
  maxLanes: positiveInt.optional(),
  maxPtys: positiveInt.optional(),
  pty: ptyLimitsSchema.optional(),
  inspect: z.union([z.function(), z.object({ next: z.function() }).passthrough()]).optional(),
  trace: z.string().min(1).optional(),
  task: z.union([z.enum(['builtin', 'par']), z.object({ name: z.string() }).passthrough()]).optional(),
  ptyBackend: z
    .object({ kind: z.enum(['inline', 'process']), start: z.function() })
    .passthrough()
    .optional(),
  taskHealth: z
    .strictObject({
      intervalMs: positiveInt.max(MAX_TIMEOUT_MS).optional(),
      stallTimeoutMs: positiveInt.max(MAX_TIMEOUT_MS).optional(),
    })
    .optional(),
  restartIntensity: z
    .strictObject({ maxRestarts: z.number().int().min(0).optional(), periodMs: positiveInt.optional() })
    .optional(),
  execGraceMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  reconcileGraceMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  reconcileOrphans: z.boolean().optional(),
  bus: z.unknown().optional(),
});

export type ParsedRuntimeOptions = z.infer<typeof runtimeOptionsSchema>;

/** The file that names the runtime holding a state directory. */
export const RUNTIME_LOCK_FILE = 'runtime.lock';

export interface RuntimePlace {
  /** The options, with lanevisor.json's under them (the options win). */
  readonly parsed: ParsedRuntimeOptions;
  readonly config: LanevisorConfig;
  /** Its git processes carry the runtime's id, so a dead runtime's git is found too. */
  readonly repository: Repository;
  readonly stateDir: string;
  readonly worktreeRoot: string;
  readonly records: LaneRecordStore;
  readonly journal: ProcessJournal;
  readonly lock: HeldLock;
}

/**
 * Validates the options, finds the repository, makes the state directory (0700) and the worktree
 * root, and takes the state directory's lock: LOCKED, naming the holder, while another runtime lives.
 */
export async function openRuntimePlace(options: RuntimeOptions, runtimeId: RuntimeId): Promise<RuntimePlace> {
  const given = parseOrThrow(runtimeOptionsSchema, options, 'options', 'INVALID_ARGUMENT');
  const found = await resolveRepository(given.repo);
  const config = await loadConfig(found.topLevel);
  const parsed = withConfig(given, config, found.topLevel);
  const repository: Repository = { ...found, env: { [RUNTIME_ID_VARIABLE]: runtimeId } };
  const stateDir = stateDirOf(repository, parsed.stateDir);
  await ensurePrivateDirectory(stateDir);
  const lock = await acquireProcessLock(join(stateDir, RUNTIME_LOCK_FILE), `runtime ${runtimeId}`, {
    waitMs: 0,
    what: `the lanevisor state directory ${stateDir}`,
  });
  try {
    const worktreeRoot =
      parsed.worktreeRoot ?? join(dirname(repository.topLevel), `${basename(repository.topLevel)}.lanes`);
    makeWorktreeRoot(worktreeRoot);
    const records = new LaneRecordStore(stateDir);
    const journal = new ProcessJournal(stateDir);
    await Promise.all([records.init(), journal.init()]);
    return { parsed, config, repository, stateDir, worktreeRoot: realpathSync(worktreeRoot), records, journal, lock };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** The file's settings under the options: a value given in code wins, key by key (`pty` too). */
function withConfig(options: ParsedRuntimeOptions, config: LanevisorConfig, repoRoot: string): ParsedRuntimeOptions {
  const pty = config.pty === undefined && options.pty === undefined ? {} : { pty: { ...config.pty, ...options.pty } };
  return {
    ...options,
    ...pty,
    // A relative root in the file is relative to the repository, not to wherever the runtime starts.
    worktreeRoot:
      options.worktreeRoot ?? (config.worktreeRoot === undefined ? undefined : resolve(repoRoot, config.worktreeRoot)),
    maxLanes: options.maxLanes ?? config.maxLanes,
    maxPtys: options.maxPtys ?? config.maxPtys,
  } as ParsedRuntimeOptions;
}

/** Creates the worktree root; one that exists as anything but a directory is said so in words. */
function makeWorktreeRoot(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what =
      code === 'EEXIST' || code === 'ENOTDIR' ? 'it (or a directory above it) is a file' : errorMessage(error);
    throw new LanevisorError('INVALID_ARGUMENT', `cannot use ${path} as the worktree root: ${what}`, {
      details: { worktreeRoot: path, code },
    });
  }
}

/** The state directory: the one given, or `<git common dir>/lanevisor`. */
export function stateDirOf(repository: Repository, stateDir: string | undefined): string {
  return resolve(stateDir ?? join(repository.commonDir, 'lanevisor'));
}

export function taskBackendOf(task: RuntimeOptions['task']): TaskBackend {
  if (task === undefined || task === 'builtin') return builtinTask;
  if (task === 'par') return createParTask();
  return task;
}
