import type { LaneId, PtyId } from '../../bus/ids.js';

/** What is known of a running PTY: enough to find its processes again, and to tell them from others. */
export interface PtyRecord {
  readonly ptyId: PtyId;
  readonly laneId: LaneId;
  readonly sessionId: string | null;
  readonly terminalId: string | null;
  readonly name: string;
  readonly pid: number;
  readonly pgid: number;
  readonly sid: number;
  /** /proc/<pid>/stat field 22: with the pid, names exactly one process. */
  readonly startTime: number;
  /** Epoch milliseconds. */
  readonly spawnedAt: number;
}

/** PTY id → record, for every PTY whose process runs. */
export class PtyRegistry {
  readonly #records = new Map<PtyId, PtyRecord>();

  record(entry: PtyRecord): void {
    this.#records.set(entry.ptyId, entry);
  }

  remove(ptyId: PtyId): void {
    this.#records.delete(ptyId);
  }

  get(ptyId: PtyId): PtyRecord | undefined {
    return this.#records.get(ptyId);
  }

  all(): PtyRecord[] {
    return [...this.#records.values()];
  }
}
