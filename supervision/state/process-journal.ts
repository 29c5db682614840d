import { join } from 'node:path';
import { z } from 'zod';
import { idPattern } from '../../bus/ids.js';
import { spawnOptionsSchema } from '../pty/spawn-request.js';
import { ensurePrivateDirectory, removeFileSafely, writeFileAtomic } from './atomic-file.js';
import { type RecordProblem, readRecords } from './record-files.js';

/**
 * What a runtime started that a crash could leave running, in the state directory:
 * `runtimes/<runtimeId>.json` for every runtime that ran and did not shut down cleanly (its
 * processes carry its id in LANEVISOR_RUNTIME_ID), and `ptys/<ptyId>.json` for every PTY whose
 * process runs (pid, group, session and start time, so a reused pid is told apart).
 *
 * Written atomically (temporary file and rename) but not fsynced: a crash of the process keeps
 * what the kernel was given, and a power cut, which could lose it, also ends every process
 * recorded here. Lane records, which describe worktrees that outlive a power cut, are fsynced.
 */
export const ptyJournalRecordSchema = z.strictObject({
  version: z.literal(1),
  ptyId: z.string().regex(idPattern('pty')),
  laneId: z.string().regex(idPattern('lane')),
  runtimeId: z.string().regex(idPattern('runtime')),
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  sid: z.number().int().positive(),
  startTime: z.number().int().min(0),
  spawnedAt: z.number().int(),
  /** How it was made and what happens when it ends: a runtime after a reboot starts a permanent or transient one again. */
  restart: z.enum(['permanent', 'transient', 'temporary']).optional(),
  options: spawnOptionsSchema.optional(),
});
export type PtyJournalRecord = z.infer<typeof ptyJournalRecordSchema>;

export const runtimeEntrySchema = z.strictObject({
  version: z.literal(1),
  runtimeId: z.string().regex(idPattern('runtime')),
  pid: z.number().int().positive(),
  startedAt: z.number().int(),
});
export type RuntimeEntry = z.infer<typeof runtimeEntrySchema>;

export class ProcessJournal {
  readonly #ptys: string;
  readonly #runtimes: string;
  /** Per PTY, the last write or removal: they land in the order they were asked for. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(stateDir: string) {
    this.#ptys = join(stateDir, 'ptys');
    this.#runtimes = join(stateDir, 'runtimes');
  }

  async init(): Promise<void> {
    await ensurePrivateDirectory(this.#ptys);
    await ensurePrivateDirectory(this.#runtimes);
  }

  async addRuntime(entry: RuntimeEntry): Promise<void> {
    await writeFileAtomic(this.#runtimeFile(entry.runtimeId), `${JSON.stringify(entry)}\n`, { durable: false });
  }

  async removeRuntime(runtimeId: string): Promise<void> {
    await removeFileSafely(this.#runtimeFile(runtimeId), { durable: false });
  }

  /** Records a PTY's process (again for each restart: the same file, the new process). */
  ptySpawned(record: PtyJournalRecord): void {
    this.#queue(record.ptyId, () =>
      writeFileAtomic(this.#ptyFile(record.ptyId), `${JSON.stringify(record)}\n`, { durable: false }),
    );
  }

  /** The PTY stopped for good (its whole process tree is gone). */
  ptyStopped(ptyId: string): void {
    this.#queue(ptyId, () => removeFileSafely(this.#ptyFile(ptyId), { durable: false }));
  }

  /** Waits until what was asked for this PTY so far has landed. */
  async settled(ptyId: string): Promise<void> {
    await this.#pending.get(ptyId);
  }

  /** Waits until every write and removal asked for so far has landed. */
  async flush(): Promise<void> {
    await Promise.all(this.#pending.values());
  }

  async ptyRecords(): Promise<{ records: PtyJournalRecord[]; problems: RecordProblem[] }> {
    return readRecords(this.#ptys, ptyJournalRecordSchema);
  }

  async runtimeEntries(): Promise<{ records: RuntimeEntry[]; problems: RecordProblem[] }> {
    return readRecords(this.#runtimes, runtimeEntrySchema);
  }

  #queue(ptyId: string, work: () => Promise<void>): void {
    const previous = this.#pending.get(ptyId) ?? Promise.resolve();
    // A failed write cannot be reported to anyone; the /proc sweep by tag still finds the process.
    const next = previous.then(work).catch(() => undefined);
    this.#pending.set(ptyId, next);
    void next.then(() => {
      if (this.#pending.get(ptyId) === next) this.#pending.delete(ptyId);
    });
  }

  #ptyFile(ptyId: string): string {
    return join(this.#ptys, `${ptyId}.json`);
  }

  #runtimeFile(runtimeId: string): string {
    return join(this.#runtimes, `${runtimeId}.json`);
  }
}
