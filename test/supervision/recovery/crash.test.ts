import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listPids, readEnvironVariable } from '../../../actors/process/proc.js';
import { reconcile } from '../../../supervision/runtime/reconcile.js';
import { createRuntime } from '../../../supervision/runtime/runtime.js';
import type { Runtime } from '../../../supervision/runtime/types.js';
import {
  type CrashOp,
  CrashRun,
  findWrittenFile,
  footprintChange,
  laneFootprint,
  NOTHING_STRAY,
  reportedChange,
  startUnrelatedProcesses,
  stillAlive,
  strayState,
} from '../../support/crash-harness.js';
import { createTempRepo, gitIn, type TempRepo } from '../../support/git-repo.js';
import { cmdlineOf, livePidsTagged } from '../../support/proc-scan.js';
import { waitUntil } from '../../support/wait.js';

/**
 * A runtime in a child process is SIGKILLed at each kill point the crash recovery issue names;
 * a new runtime on the same repository must then leave nothing of the dead one running or
 * unaccounted for, keep every file written before the kill, and touch nothing that is not its own.
 */
let repo: TempRepo;
let run: CrashRun | undefined;
let next: Runtime | undefined;
let unrelated: { pids: number[]; stop(): void } | undefined;

afterEach(async () => {
  await run?.kill();
  await next?.shutdown({ cleanupLanes: true });
  unrelated?.stop();
  repo?.dispose();
  run = undefined;
  next = undefined;
  unrelated = undefined;
});

async function crashAfter(ops: CrashOp[], killWhen: (run: CrashRun) => Promise<unknown>): Promise<string> {
  run = new CrashRun(repo.path, ops);
  const deadId = await run.runtimeId();
  await killWhen(run);
  await run.kill();
  return deadId;
}

/** The git processes of a runtime running `git <args…>`. */
function gitOf(runtimeId: string, ...args: string[]): number[] {
  return listPids().filter(
    (pid) =>
      readEnvironVariable(pid, 'LANEVISOR_RUNTIME_ID') === runtimeId &&
      cmdlineOf(pid).startsWith('git\0') &&
      cmdlineOf(pid).includes(`\0${args.join('\0')}\0`),
  );
}

describe('crash recovery', () => {
  it('during `worktree add` of a large checkout: the orphaned git is stopped and the half checkout removed', async () => {
    repo = createTempRepo(6_000);
    unrelated = await startUnrelatedProcesses();
    let addPid = 0;
    const deadId = await crashAfter([{ type: 'create', label: 'big' }], async (child) => {
      const runtimeId = await child.runtimeId();
      const { worktreeRoot } = (await child.waitFor((line) => 'worktreeRoot' in line)) as { worktreeRoot: string };
      const { laneId } = (await child.waitFor((line) => line.event === 'lane.created')) as { laneId: string };
      // Killed once git is writing the checkout (more than its `.git` file is there).
      const checkout = join(worktreeRoot, laneId);
      await waitUntil(
        () => existsSync(checkout) && readdirSync(checkout).length > 1,
        'the checkout to be under way',
        20_000,
      );
      addPid = gitOf(runtimeId, 'worktree', 'add')[0] as number;
    });
    // Killing the runtime does not stop its git: it would go on writing into the worktree.
    expect(stillAlive([addPid])).toEqual([addPid]);
    const worktreeRoot = `${repo.path}.lanes`;
    const before = laneFootprint(repo.path, worktreeRoot);

    next = await createRuntime({ repo: repo.path });
    expect(next.reconciliation.processes.found).toBeGreaterThanOrEqual(1);
    expect(next.reconciliation.processes.killed).toBe(next.reconciliation.processes.found);
    expect(next.reconciliation.lanes).toMatchObject({ resumed: 0, cleaned: 1, salvaged: 0, stalled: 0 });
    expect(next.lanes()).toEqual([]);
    // The lane's half checkout and its branch went with its record's cleanup, and the report counts them.
    const change = footprintChange(before, laneFootprint(repo.path, worktreeRoot), next);
    expect(change.counts).toEqual({ worktrees: { removed: 1, pruned: 0 }, branches: { removed: 1, kept: 0 } });
    expect(reportedChange(next.reconciliation)).toEqual(change);
    expect(strayState(repo.path, next, deadId)).toEqual(NOTHING_STRAY);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
    expect(stillAlive([addPid])).toEqual([]);
    expect(stillAlive(unrelated.pids)).toEqual(unrelated.pids);
  }, 60_000);

  it('right after provisioning: the lane comes back ready, with the files written in it', async () => {
    repo = createTempRepo(50);
    const deadId = await crashAfter(
      [
        { type: 'create', label: 'fresh' },
        { type: 'write', label: 'fresh', file: 'notes.txt', content: 'kept\n' },
      ],
      (child) => child.opDone(1),
    );
    next = await createRuntime({ repo: repo.path });
    expect(next.reconciliation).toMatchObject({
      processes: { found: 0, killed: 0, notOurs: 0, survived: 0 },
      ptys: { lost: 0 },
      lanes: { resumed: 1, cleaned: 0, salvaged: 0, stalled: 0 },
      worktrees: { pruned: 0, removed: 0, kept: 0 },
    });
    const [lane] = next.lanes();
    expect(lane).toMatchObject({ state: 'ready', label: 'fresh', branch: 'lane/fresh' });
    expect(findWrittenFile(repo.path, next, 'notes.txt', 'kept\n')).toBe(`lane ${lane?.id}`);
    expect(strayState(repo.path, next, deadId)).toEqual(NOTHING_STRAY);
  }, 60_000);

  it('with PTYs running (one ignoring HUP and TERM, one with a background job, one with a setsid grandchild): all stopped, the lane back', async () => {
    repo = createTempRepo(50);
    unrelated = await startUnrelatedProcesses();
    const deadId = await crashAfter(
      [
        { type: 'create', label: 'busy' },
        { type: 'pty', label: 'busy', kind: 'trap' },
        { type: 'pty', label: 'busy', kind: 'bg' },
        { type: 'pty', label: 'busy', kind: 'setsid' },
        { type: 'write', label: 'busy', file: 'draft.md', content: 'draft\n' },
      ],
      (child) => child.opDone(4),
    );
    // What survives the runtime: inline, the shell ignoring HUP, the background job and the setsid
    // grandchild; with the terminal host (lingerMs 0), which is ending them meanwhile, at least
    // the one ignoring TERM, for its grace (waiting for three raced the host's TERM and lost).
    const surviving = process.env.LANEVISOR_PTY_HOST === 'inline' ? 3 : 1;
    await waitUntil(() => livePidsTagged('LANEVISOR_RUNTIME_ID', deadId).length >= surviving, 'orphans to settle');
    const orphans = livePidsTagged('LANEVISOR_RUNTIME_ID', deadId);

    next = await createRuntime({ repo: repo.path });
    const report = next.reconciliation;
    // The three outlive it (the trap loop's `sleep 1` comes and goes between the two scans); with
    // the terminal host (lingerMs 0) the host is stopping them too, and the one ignoring TERM is left.
    expect(report.processes.found).toBeGreaterThanOrEqual(1);
    expect(report.processes).toMatchObject({ killed: report.processes.found, notOurs: 0, survived: 0 });
    expect(report.ptys.lost).toBe(3);
    expect(report.lanes).toMatchObject({ resumed: 1, cleaned: 0 });
    expect(stillAlive(orphans)).toEqual([]);
    const [lane] = next.lanes();
    expect(lane?.ptys()).toEqual([]);
    expect(findWrittenFile(repo.path, next, 'draft.md', 'draft\n')).toBe(`lane ${lane?.id}`);
    expect(strayState(repo.path, next, deadId)).toEqual(NOTHING_STRAY);
    expect(stillAlive(unrelated.pids)).toEqual(unrelated.pids);
    // Journals of the dead runtime are gone once its processes are.
    expect(existsSync(join(next.stateDir, 'runtimes', `${deadId}.json`))).toBe(false);
  }, 60_000);

  it('in the middle of a cleanup: the cleanup is completed, the work salvaged, the branch with a commit kept', async () => {
    repo = createTempRepo(50);
    const deadId = await crashAfter(
      [
        { type: 'create', label: 'leaving' },
        { type: 'pty', label: 'leaving', kind: 'trap' },
        { type: 'commit', label: 'leaving', message: 'a commit of its own' },
        { type: 'write', label: 'leaving', file: 'unsaved.txt', content: 'unsaved\n' },
        { type: 'cleanup', label: 'leaving' },
      ],
      // The PTY ignores TERM: the cleanup is stuck in its grace when the runtime dies.
      (child) => child.waitFor((line) => line.event === 'lane.cleaning'),
    );
    const worktreeRoot = `${repo.path}.lanes`;
    const before = laneFootprint(repo.path, worktreeRoot);
    const dry = await reconcile({ repo: repo.path, dryRun: true });
    next = await createRuntime({ repo: repo.path });
    expect(next.reconciliation.lanes).toMatchObject({ resumed: 0, cleaned: 1, salvaged: 1, stalled: 0 });
    expect(next.lanes()).toEqual([]);
    // The worktree its record's cleanup removed and the branch it kept are counted, as the dry run said.
    const change = footprintChange(before, laneFootprint(repo.path, worktreeRoot), next);
    expect(change.counts).toEqual({ worktrees: { removed: 1, pruned: 0 }, branches: { removed: 0, kept: 1 } });
    expect(reportedChange(next.reconciliation)).toEqual(change);
    expect(next.reconciliation.details.branches.kept).toEqual([{ branch: 'lane/leaving', reason: 'commits' }]);
    expect(dry.details.worktrees).toEqual(next.reconciliation.details.worktrees);
    expect(dry.details.branches).toEqual(next.reconciliation.details.branches);
    expect(dry).toMatchObject({ worktrees: next.reconciliation.worktrees, branches: next.reconciliation.branches });
    const where = findWrittenFile(repo.path, next, 'unsaved.txt', 'unsaved\n');
    expect(where).toMatch(/^refs\/lanevisor\/salvage\/lane_/);
    expect(next.reconciliation.salvagedRefs).toEqual([where]);
    expect(strayState(repo.path, next, deadId)).toEqual(NOTHING_STRAY);
  }, 60_000);

  it('during salvage: the salvage is done again and nothing is lost', async () => {
    repo = createTempRepo(50);
    const deadId = await crashAfter(
      [
        { type: 'create', label: 'saving' },
        { type: 'write', label: 'saving', file: 'many', content: 'x\n', count: 3_000 },
        { type: 'write', label: 'saving', file: 'last.txt', content: 'last\n' },
        { type: 'cleanup', label: 'saving' },
      ],
      async (child) => {
        const runtimeId = await child.runtimeId();
        await waitUntil(() => gitOf(runtimeId, 'add', '--all').length > 0, 'the salvage to run git add', 20_000);
      },
    );
    const before = laneFootprint(repo.path, `${repo.path}.lanes`);
    next = await createRuntime({ repo: repo.path });
    expect(next.reconciliation.lanes).toMatchObject({ cleaned: 1, salvaged: 1, stalled: 0 });
    const change = footprintChange(before, laneFootprint(repo.path, `${repo.path}.lanes`), next);
    expect(change.counts).toEqual({ worktrees: { removed: 1, pruned: 0 }, branches: { removed: 1, kept: 0 } });
    expect(reportedChange(next.reconciliation)).toEqual(change);
    const where = findWrittenFile(repo.path, next, 'last.txt', 'last\n');
    expect(where).toMatch(/^refs\/lanevisor\/salvage\/lane_/);
    expect(findWrittenFile(repo.path, next, 'many-2999', 'x\n')).toBe(where);
    // The killed salvage's temporary index is gone too.
    expect(readdirSync(join(repo.path, '.git')).filter((name) => name.startsWith('lanevisor-salvage-'))).toEqual([]);
    expect(strayState(repo.path, next, deadId)).toEqual(NOTHING_STRAY);
  }, 60_000);
});
