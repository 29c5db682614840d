import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { idPattern } from '../../bus/ids.js';
import { spawnOptionsSchema } from '../pty/spawn-request.js';
import {
  ensurePrivateDirectory,
  removeFileSafely,
  writeFileAtomic,
  writeFileAtomicSyncNotDurable,
} from './atomic-file.js';
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

/** What is to become of one PTY's file in the next batch: its new content, or null to remove it. */
type PendingChange = string | null;

export class ProcessJournal {
  readonly #ptys: string;
  readonly #runtimes: string;
  /** Per PTY, the change asked for last and not yet made: only the last one matters for the file. */
  readonly #changes = new Map<string, PendingChange>();
  /** Resolves once the changes asked for so far have landed (undefined: none waiting). */
  #batch: Promise<void> | undefined;

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
    this.#change(record.ptyId, `${JSON.stringify(record)}\n`);
  }

  /** The PTY stopped for good (its whole process tree is gone). */
  ptyStopped(ptyId: string): void {
    this.#change(ptyId, null);
  }

  /** Waits until what was asked for this PTY so far has landed. */
  async settled(ptyId: string): Promise<void> {
    if (this.#changes.has(ptyId)) await this.#batch;
  }

  /** Waits until every write and removal asked for so far has landed. */
  async flush(): Promise<void> {
    await this.#batch;
  }

  async ptyRecords(): Promise<{ records: PtyJournalRecord[]; problems: RecordProblem[] }> {
    return readRecords(this.#ptys, ptyJournalRecordSchema);
  }

  async runtimeEntries(): Promise<{ records: RuntimeEntry[]; problems: RecordProblem[] }> {
    return readRecords(this.#runtimes, runtimeEntrySchema);
  }

  /**
   * Changes asked for in one turn of the event loop land together, in the next, synchronously (a
   * temporary file and a rename each, or a removal): 100 PTYs adopted at a start are 100 small
   * writes, which through fs/promises took most of the adoption's time. A PTY asked for twice in
   * one batch gets its last change only (what an earlier one wrote would be replaced at once).
   */
  #change(ptyId: string, change: PendingChange): void {
    this.#changes.set(ptyId, change);
    this.#batch ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        const changes = [...this.#changes];
        this.#changes.clear();
        this.#batch = undefined;
        for (const [id, content] of changes) {
          // A failed write cannot be reported to anyone; the /proc sweep by tag still finds the process.
          try {
            if (content === null) rmSync(this.#ptyFile(id), { force: true });
            else writeFileAtomicSyncNotDurable(this.#ptyFile(id), content);
          } catch {}
        }
        resolve();
      }),
    );
  }

  #ptyFile(ptyId: string): string {
    return join(this.#ptys, `${ptyId}.json`);
  }

  #runtimeFile(runtimeId: string): string {
    return join(this.#runtimes, `${runtimeId}.json`);
  }
}
