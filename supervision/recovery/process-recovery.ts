import { isRunning, readProcStat } from '../../actors/process/proc.js';
import {
  isSameProcessAlive,
  type ProcessTreeSelector,
  scanProcessTree,
  type TreeMember,
} from '../../actors/process/process-tree.js';
import { stopProcessTrees } from '../../actors/process/tree-signaller.js';
import { PTY_ID_VARIABLE, RUNTIME_ID_VARIABLE } from '../pty/spawn-request.js';
import type { PtyJournalRecord } from '../state/process-journal.js';

/**
 * Finding and stopping what dead runtimes left running. A process is theirs when it is a
 * journaled PTY's process (same pid *and* start time), in that PTY's session or group, or carries
 * a dead runtime's id or a journaled PTY's id in its environment (setsid escapees, git and
 * commands the runtime ran). Nothing else is ever signalled: a journaled pid now naming another
 * process is counted `notOurs` and left alone.
 */

/** The orphans lost their terminal when their runtime died; they get this long after SIGTERM. */
export const RECOVERY_GRACE_MS = 500;
/**
 * How long a dead runtime's git processes may run on to finish by themselves before they are
 * signalled: a git killed at the wrong moment leaves a lock file behind (see stale-locks.ts).
 */
export const GIT_SETTLE_MS = 3_000;
const GIT_SETTLE_POLL_MS = 20;
/** After SIGKILL, how long to wait for the last ones before reporting them as survivors. */
export const RECOVERY_GIVE_UP_MS = 2_000;

export interface ProcessRecoveryPlan {
  readonly selectors: readonly ProcessTreeSelector[];
  /** Found now: theirs and running. */
  readonly found: readonly TreeMember[];
  readonly notOurs: number;
  /** Lane id → the PTYs that were running in it. */
  readonly lostPtys: ReadonlyMap<string, readonly string[]>;
}

/**
 * `kept`: PTYs the terminal host still runs that are adopted (their pid → id): their processes are
 * never stopped, although they carry a dead runtime's tag.
 */
export function planProcessRecovery(
  ptys: readonly PtyJournalRecord[],
  deadRuntimeIds: Iterable<string>,
  kept: ReadonlyMap<string, number> = new Map(),
): ProcessRecoveryPlan {
  const selectors: ProcessTreeSelector[] = [];
  const lostPtys = new Map<string, string[]>();
  const spare = { tagName: PTY_ID_VARIABLE, tags: new Set(kept.keys()), sessions: new Set(kept.values()) };
  let notOurs = 0;
  for (const record of ptys) {
    if (kept.has(record.ptyId)) continue;
    lostPtys.set(record.laneId, [...(lostPtys.get(record.laneId) ?? []), record.ptyId]);
    const tag = { name: PTY_ID_VARIABLE, value: record.ptyId };
    const stat = readProcStat(record.pid);
    if (isRunning(stat) && stat.startTime !== record.startTime) {
      // The pid was reused: its session and group are somebody else's now; only the tag is trusted.
      notOurs++;
      selectors.push({ tag, spare });
      continue;
    }
    selectors.push({ leader: { pid: record.pid, startTime: record.startTime }, tag, spare });
  }
  for (const runtimeId of new Set(deadRuntimeIds))
    selectors.push({ tag: { name: RUNTIME_ID_VARIABLE, value: runtimeId }, spare });
  return { selectors, found: selectors.length === 0 ? [] : scanProcessTree(selectors), notOurs, lostPtys };
}

/** The pids of running processes (zombies aside) a runtime started: its PTYs, commands and git. */
export function runtimeProcesses(runtimeId: string): number[] {
  return scanProcessTree({ tag: { name: RUNTIME_ID_VARIABLE, value: runtimeId } }).map((member) => member.pid);
}

/**
 * Lets the dead runtimes' git processes finish (up to GIT_SETTLE_MS), then SIGTERM, the grace,
 * SIGKILL to everything of theirs; resolves when all are gone, or with how many would not go.
 * `gitKilledBy`: when a git that was still running had been stopped (all of them gone by then);
 * null when none had to be signalled, or something survived.
 */
export async function stopOrphanProcesses(
  plan: ProcessRecoveryPlan,
  graceMs: number = RECOVERY_GRACE_MS,
  gitSettleMs: number = GIT_SETTLE_MS,
): Promise<{ killed: number; survived: number; gitKilledBy: number | null }> {
  if (plan.found.length === 0) return { killed: 0, survived: 0, gitKilledBy: null };
  const gits = plan.found.filter((member) => readProcStat(member.pid)?.comm.startsWith('git') === true);
  const deadline = performance.now() + gitSettleMs;
  while (gits.some(isSameProcessAlive) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, GIT_SETTLE_POLL_MS));
  }
  const gitStillRan = gits.some(isSameProcessAlive);
  const { remaining } = await stopProcessTrees(plan.selectors, { graceMs, giveUpAfterMs: RECOVERY_GIVE_UP_MS });
  const survivors = new Set(remaining.map((process) => process.pid));
  const killed = plan.found.filter((member) => !survivors.has(member.pid)).length;
  const gitKilledBy = gitStillRan && remaining.length === 0 ? Date.now() : null;
  return { killed, survived: remaining.length, gitKilledBy };
}
