import { existsSync, readFileSync, rmSync } from 'node:fs';
import { stopProcessTrees } from '../../actors/process/tree-signaller.js';
import type { HostBackend } from '../../actors/pty/host/host-client.js';
import type { HostPtyInfo } from '../../actors/pty/host/host-protocol.js';
import { screenFileOf } from '../../actors/pty/host/screen-keeper.js';
import { type Adoptable, adoptableOf } from '../pty/pty-adoption.js';
import { PTY_ID_VARIABLE } from '../pty/spawn-request.js';
import type { SpawnPtyOptions } from '../pty/types.js';
import type { LaneRecord } from '../state/lane-records.js';
import type { PtyJournalRecord } from '../state/process-journal.js';

/**
 * Which of the PTYs the terminal host kept after their runtime died are taken over: those of
 * lanes that come back (a `ready` record whose worktree is there), running and with a readable
 * record of how they were made. Their processes are spared by the reconciliation; every other PTY
 * the host holds for a dead runtime is stopped (TERM, grace, KILL, whole trees) and forgotten.
 */
export interface AdoptionPlan {
  /** Lane id → its PTYs to adopt. */
  readonly byLane: ReadonlyMap<string, readonly Adoptable[]>;
  /** PTY id → its leader's pid: the trees the process stop leaves alone. */
  readonly kept: ReadonlyMap<string, number>;
  /** The other lingering PTYs of the host: stopped, then forgotten. */
  readonly others: readonly HostPtyInfo[];
}

export const NO_ADOPTIONS: AdoptionPlan = { byLane: new Map(), kept: new Map(), others: [] };

/** `hosted`: the host's list of its PTYs (null without a host). */
export function planAdoptions(hosted: readonly HostPtyInfo[] | null, records: readonly LaneRecord[]): AdoptionPlan {
  if (hosted === null) return NO_ADOPTIONS;
  const comingBack = new Set(
    records.filter((record) => record.phase === 'ready' && existsSync(record.worktreePath)).map((r) => r.laneId),
  );
  const byLane = new Map<string, Adoptable[]>();
  const kept = new Map<string, number>();
  const others: HostPtyInfo[] = [];
  for (const info of hosted) {
    if (!info.lingering) continue;
    const adoptable = adoptableOf(info);
    if (adoptable === undefined || !comingBack.has(adoptable.meta.laneId)) {
      others.push(info);
      continue;
    }
    byLane.set(adoptable.meta.laneId, [...(byLane.get(adoptable.meta.laneId) ?? []), adoptable]);
    kept.set(info.ptyId, info.started.pid);
  }
  return { byLane, kept, others };
}

/** A PTY of a lane that comes back whose processes are gone: started again, its old screen shown first. */
export interface Revival {
  readonly ptyId: string;
  readonly options: SpawnPtyOptions;
  /** The screen it showed (kept by the host), and a line saying it was started again. */
  readonly preface: string;
}

export const RESTORED_MARKER = '\r\n\u001b[2m[lanevisor: history restored; the program was started again]\u001b[0m\r\n';

/**
 * Of a lane's lost PTYs, those to start again: permanent or transient ones whose journal record
 * says how they were made. Their screens are read; every lost PTY's kept screen is removed (a
 * started-again one gets a new one from the host).
 */
export function revivalsOf(stateDir: string, records: readonly PtyJournalRecord[], lost: readonly string[]): Revival[] {
  const revivals: Revival[] = [];
  for (const ptyId of lost) {
    const record = records.find((r) => r.ptyId === ptyId);
    const file = screenFileOf(stateDir, ptyId);
    const screen = existsSync(file) ? readFileSync(file, 'utf8') : '';
    rmSync(file, { force: true });
    if (record?.options === undefined || (record.restart !== 'permanent' && record.restart !== 'transient')) continue;
    revivals.push({ ptyId, options: record.options as SpawnPtyOptions, preface: `${screen}${RESTORED_MARKER}` });
  }
  return revivals;
}

/** Stops the trees of host PTYs nobody takes over (TERM, grace, KILL) and has the host forget them. */
export async function endUnadopted(
  host: HostBackend | null,
  ptys: readonly HostPtyInfo[],
  graceMs: number,
): Promise<void> {
  if (host === null || ptys.length === 0) return;
  const selectors = ptys.map((info) => ({
    leader: { pid: info.started.pid, startTime: info.started.startTime },
    tag: { name: PTY_ID_VARIABLE, value: info.ptyId },
  }));
  await stopProcessTrees(selectors, { graceMs, giveUpAfterMs: 2_000 });
  await Promise.all(ptys.map((info) => host.end(info.ptyId).catch(() => undefined)));
}
