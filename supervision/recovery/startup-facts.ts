import type { Repository } from '../../actors/git/repository.js';
import type { LaneRecord, LaneRecordStore } from '../state/lane-records.js';
import type { ProcessJournal, PtyJournalRecord, RuntimeEntry } from '../state/process-journal.js';
import type { RecordProblem } from '../state/record-files.js';
import { presenceOf, type WorktreePresence } from './record-cleanups.js';

/**
 * What a startup reconciliation reads before it changes anything: the journal, the lane records
 * and, for each recorded lane, its worktree as it is before any process is stopped (a killed
 * `worktree add`, stopped later, removes its own checkout, and that checkout is still one the
 * reconciliation removes). A runtime reads them while it connects to its terminal host.
 */
export interface StartupFacts {
  readonly ptys: { readonly records: PtyJournalRecord[]; readonly problems: RecordProblem[] };
  readonly runtimes: { readonly records: RuntimeEntry[]; readonly problems: RecordProblem[] };
  readonly lanes: { readonly records: LaneRecord[]; readonly problems: RecordProblem[] };
  /** Lane id → its worktree's directory and git's record of it, before anything was stopped. */
  readonly before: ReadonlyMap<string, WorktreePresence>;
}

export async function readStartupFacts(place: {
  readonly repository: Repository;
  readonly records: LaneRecordStore;
  readonly journal: ProcessJournal;
}): Promise<StartupFacts> {
  const [ptys, runtimes, lanes] = await Promise.all([
    place.journal.ptyRecords(),
    place.journal.runtimeEntries(),
    place.records.list(),
  ]);
  const before = await presenceOf(place.repository, lanes.records);
  return { ptys, runtimes, lanes, before };
}
