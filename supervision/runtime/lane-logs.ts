import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveRepository } from '../../actors/git/repository.js';
import { isId } from '../../bus/ids.js';
import { LaneRecordStore } from '../state/lane-records.js';
import { stateDirOf } from './runtime-setup.js';

/** Where `lanevisor run` writes a lane's whole output; `prune` removes old ones. */
export function laneLogPath(stateDir: string, laneId: string): string {
  return join(stateDir, 'logs', `${laneId}.log`);
}

/**
 * A lane's log as `run` wrote it, for `lanevisor logs` when no runtime is alive: the lane named by
 * label or id among the records, or by id once its record is gone (a cleaned lane's log stays
 * until pruned). Null when there is no log.
 */
export async function readLaneLog(options: {
  readonly repo: string;
  readonly stateDir?: string;
  readonly lane: string;
}): Promise<{ readonly laneId: string; readonly path: string; readonly data: string } | null> {
  const stateDir = stateDirOf(await resolveRepository(options.repo), options.stateDir);
  const { records } = await new LaneRecordStore(stateDir).list();
  const record = records.find((r) => r.laneId === options.lane || r.label === options.lane);
  const laneId = record?.laneId ?? options.lane;
  // An id is a file name here: nothing that could leave the logs directory.
  if (!isId('lane', laneId)) return null;
  const path = laneLogPath(stateDir, laneId);
  const data = await readFile(path, 'utf8').catch(() => null);
  return data === null ? null : { laneId, path, data };
}
