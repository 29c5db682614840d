import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withRepoLock } from '../../actors/git/repo-lock.js';
import { resolveRepository } from '../../actors/git/repository.js';
import { deleteSalvageRef, listSalvageRefs, type SalvageRef } from '../../actors/git/salvage.js';
import { LanevisorError } from '../../bus/errors.js';
import { stateDirOf } from './runtime-setup.js';

/**
 * What piles up and nothing removes by itself: each `run`'s lane logs in `<stateDir>/logs/` and
 * the salvage refs that hold uncommitted work of cleaned lanes. Listed on request, and removed
 * only when asked (`lanevisor prune`), only past a given age.
 */
export type { SalvageRef };

export interface PruneOptions {
  readonly repo: string;
  readonly stateDir?: string;
  /** What is older than this (by modification time, or when it was saved) goes. */
  readonly olderThanMs: number;
  readonly dryRun?: boolean;
  /** Defaults to now; for deterministic use. */
  readonly now?: number;
}

export interface PruneReport {
  readonly dryRun: boolean;
  readonly logs: ReadonlyArray<{ readonly path: string; readonly bytes: number; readonly modifiedAt: number }>;
  readonly salvagedRefs: readonly SalvageRef[];
}

/** The salvage refs of a repository, oldest first (`lanevisor ls --salvaged`). */
export async function listSalvaged(options: { readonly repo: string }): Promise<SalvageRef[]> {
  return listSalvageRefs(await resolveRepository(options.repo));
}

/** Removes (or, in a dry run, lists) the logs and salvage refs older than `olderThanMs`. */
export async function prune(options: PruneOptions): Promise<PruneReport> {
  if (!Number.isSafeInteger(options.olderThanMs) || options.olderThanMs < 0) {
    throw new LanevisorError('INVALID_ARGUMENT', 'olderThanMs must be a whole number of milliseconds, 0 or more');
  }
  const repository = await resolveRepository(options.repo);
  const cutoff = (options.now ?? Date.now()) - options.olderThanMs;
  const dryRun = options.dryRun === true;
  const logsDir = join(stateDirOf(repository, options.stateDir), 'logs');
  const logs = [];
  for (const name of await readdir(logsDir).catch(() => [])) {
    if (!name.endsWith('.log')) continue;
    const path = join(logsDir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs < cutoff)
      logs.push({ path, bytes: info.size, modifiedAt: Math.round(info.mtimeMs) });
  }
  const refs = (await listSalvageRefs(repository)).filter((salvage) => salvage.savedAt < cutoff);
  if (dryRun) return { dryRun, logs, salvagedRefs: refs };
  await Promise.all(logs.map((log) => rm(log.path, { force: true })));
  const removed = await withRepoLock(repository.commonDir, async () => {
    const gone: SalvageRef[] = [];
    for (const salvage of refs) if (await deleteSalvageRef(repository, salvage)) gone.push(salvage);
    return gone;
  });
  return { dryRun, logs, salvagedRefs: removed };
}
