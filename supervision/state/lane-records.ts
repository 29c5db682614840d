import { join } from 'node:path';
import { z } from 'zod';
import { idPattern } from '../../bus/ids.js';
import { ensurePrivateDirectory, removeFileSafely, writeFileAtomic } from './atomic-file.js';
import { type RecordProblem, readRecords } from './record-files.js';

/**
 * One record per lane in `<stateDir>/lanes/<laneId>.json`, written before anything is created in
 * git and updated at each step, so a crash at any point leaves something the next start can
 * reconcile: `provisioning` (worktree add may have begun), `ready`, `cleaning` (cleanup began).
 */
export const laneRecordSchema = z.strictObject({
  version: z.literal(1),
  laneId: z.string().regex(idPattern('lane')),
  label: z.string().nullable(),
  branch: z.string(),
  baseRef: z.string(),
  baseSha: z.string(),
  worktreePath: z.string(),
  repo: z.string(),
  runtimeId: z.string(),
  createdAt: z.number().int(),
  phase: z.enum(['provisioning', 'ready', 'cleaning']),
  agents: z.array(z.string()),
  /** Shared (`share()`); absent from records written before it was kept, which only several agents tell. */
  shared: z.boolean().optional(),
  /**
   * Why a person blocked the lane (`block()`), null once unblocked. A block the supervisor or
   * the task watch set is not kept: it is about processes the next runtime looks at anew.
   */
  blockReason: z.string().min(1).nullable().optional(),
  task: z.strictObject({ backend: z.string(), facts: z.record(z.string(), z.unknown()) }).nullable(),
  discard: z.boolean(),
  /** The lane's LANEVISOR_PORT, kept across restarts and re-adoption (absent: none, or a record from before ports). */
  port: z.number().int().min(1).max(65_535).nullable().optional(),
  /** The lanevisor.json template it was made from. */
  template: z.string().nullable().optional(),
});

export type LaneRecord = z.infer<typeof laneRecordSchema>;

/** Whether the lane a record describes is shared; one from before `shared` was kept is when it holds several agents (only a shared lane can). */
export function recordedAsShared(record: Pick<LaneRecord, 'shared' | 'agents'>): boolean {
  return record.shared ?? record.agents.length > 1;
}

export class LaneRecordStore {
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'lanes');
  }

  async init(): Promise<void> {
    await ensurePrivateDirectory(this.#dir);
  }

  fileOf(laneId: string): string {
    return join(this.#dir, `${laneId}.json`);
  }

  async write(record: LaneRecord): Promise<void> {
    await writeFileAtomic(this.fileOf(record.laneId), `${JSON.stringify(laneRecordSchema.parse(record), null, 2)}\n`);
  }

  async remove(laneId: string): Promise<void> {
    await removeFileSafely(this.fileOf(laneId));
  }

  /** Every readable record, and the files that are not valid records (kept, reported). */
  async list(): Promise<{ records: LaneRecord[]; problems: RecordProblem[] }> {
    return readRecords(this.#dir, laneRecordSchema);
  }
}
