import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readProcStat } from '../../../actors/process/proc.js';
import { isLanevisorError } from '../../../bus/errors.js';
import { createLaneId, createPtyId, createRuntimeId } from '../../../bus/ids.js';
import { reconcile } from '../../../supervision/runtime/reconcile.js';
import { createRuntime } from '../../../supervision/runtime/runtime.js';
import type { Runtime } from '../../../supervision/runtime/types.js';
import { createTempRepo, gitIn, type TempRepo } from '../../support/git-repo.js';
import { isAlive } from '../../support/proc-scan.js';
import { waitUntil } from '../../support/wait.js';

let repo: TempRepo;
const runtimes: Runtime[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.shutdown({ cleanupLanes: true });
  for (const child of children.splice(0)) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  repo?.dispose();
});

async function start(): Promise<Runtime> {
  const runtime = await createRuntime({ repo: repo.path });
  runtimes.push(runtime);
  return runtime;
}

/** A process in its own session (as a PTY's shell is), with `env` on top of ours. */
function startSession(script: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

function startTimeOf(pid: number): number {
  return readProcStat(pid)?.startTime ?? -1;
}

describe('startup reconciliation', () => {
  it('refuses a second runtime on the same state directory while the first lives, naming it', async () => {
    repo = createTempRepo();
    const first = await start();
    const second = await createRuntime({ repo: repo.path }).catch((error: unknown) => error);
    expect(isLanevisorError(second, 'LOCKED')).toBe(true);
    expect((second as Error).message).toContain(`runtime ${first.id} (pid ${process.pid}`);
    await expect(reconcile({ repo: repo.path, dryRun: true })).rejects.toMatchObject({ code: 'LOCKED' });
    // Another state directory is another set of lanes: allowed.
    const elsewhere = await createRuntime({ repo: repo.path, stateDir: join(repo.base, 'other-state') });
    runtimes.push(elsewhere);
    await first.shutdown();
    const third = await start();
    expect(third.reconciliation.processes.found).toBe(0);
  });

  it("stops what a dead runtime's PTYs left, by session and by tag, and never a reused pid or anyone else's process", async () => {
    repo = createTempRepo();
    const first = await start();
    await first.shutdown();
    const stateDir = first.stateDir;
    const dead = createRuntimeId();
    const laneId = createLaneId();
    // A PTY's shell (leader of its session) with a child that carries no tag.
    const shell = startSession('sleep 300 & wait');
    // A setsid escapee: its own session, found by the dead runtime's tag.
    const escapee = startSession('sleep 300; exit 0', { LANEVISOR_RUNTIME_ID: dead });
    // A pid the journal names whose process is another one now (its start time differs).
    const reused = startSession('sleep 300; exit 0');
    const unrelated = startSession('sleep 300; exit 0');
    await waitUntil(() => readdirSync('/proc').some((p) => readProcStat(Number(p))?.ppid === shell.pid), 'the child');
    const ptyRecord = (ptyId: string, pid: number, startTime: number) =>
      JSON.stringify({
        version: 1,
        ptyId,
        laneId,
        runtimeId: dead,
        pid,
        pgid: pid,
        sid: pid,
        startTime,
        spawnedAt: Date.now(),
      });
    const [shellPty, reusedPty] = [createPtyId(), createPtyId()];
    writeFileSync(
      join(stateDir, 'ptys', `${shellPty}.json`),
      ptyRecord(shellPty, shell.pid as number, startTimeOf(shell.pid as number)),
    );
    writeFileSync(
      join(stateDir, 'ptys', `${reusedPty}.json`),
      ptyRecord(reusedPty, reused.pid as number, startTimeOf(reused.pid as number) - 1),
    );
    writeFileSync(
      join(stateDir, 'runtimes', `${dead}.json`),
      JSON.stringify({ version: 1, runtimeId: dead, pid: 999_999, startedAt: 1 }),
    );

    const dry = await reconcile({ repo: repo.path, dryRun: true });
    // The shell and its sleep; the escapee's bash and its sleep (both inherit the tag).
    expect(dry).toMatchObject({ dryRun: true, processes: { found: 4, killed: 0, notOurs: 1 }, ptys: { lost: 2 } });
    expect(isAlive(shell.pid as number)).toBe(true);

    const next = await start();
    expect(next.reconciliation).toMatchObject({
      dryRun: false,
      processes: { found: 4, killed: 4, notOurs: 1, survived: 0 },
      ptys: { lost: 2 },
    });
    expect(isAlive(shell.pid as number)).toBe(false);
    expect(isAlive(escapee.pid as number)).toBe(false);
    expect(isAlive(reused.pid as number)).toBe(true);
    expect(isAlive(unrelated.pid as number)).toBe(true);
    expect(readdirSync(join(stateDir, 'ptys'))).toEqual([]);
    expect(readdirSync(join(stateDir, 'runtimes'))).toEqual([`${next.id}.json`]);
  });

  it('removes what no record accounts for, salvaging first, keeps what may hold work, and touches nothing else', async () => {
    repo = createTempRepo();
    const root = join(repo.base, 'repo.lanes');
    mkdirSync(root);
    const main = gitIn(repo.path, 'rev-parse', 'main');
    // What lanevisor leaves when it makes a branch: the branch and its marker at the start commit.
    const marked = (branch: string) => gitIn(repo.path, 'update-ref', `refs/lanevisor/branches/${branch}`, main);
    const lanePath = () => join(root, createLaneId());
    const pruned = lanePath();
    gitIn(repo.path, 'worktree', 'add', '-q', '-b', 'lane/pruned', pruned);
    marked('lane/pruned');
    rmSync(pruned, { recursive: true });
    const unfinished = lanePath();
    gitIn(repo.path, 'worktree', 'add', '-q', '-b', 'lane/unfinished', unfinished);
    marked('lane/unfinished');
    gitIn(repo.path, 'worktree', 'lock', '--reason', 'initializing', unfinished);
    const healthy = lanePath();
    gitIn(repo.path, 'worktree', 'add', '-q', '-b', 'lane/healthy', healthy);
    marked('lane/healthy');
    const stray = lanePath();
    mkdirSync(stray);
    writeFileSync(join(stray, 'notes.txt'), 'somebody wrote this\n');
    const aside = join(root, '.removing-lane_0000000000000000-1');
    mkdirSync(aside);
    const notOurs = join(root, 'notes');
    mkdirSync(notOurs);
    writeFileSync(join(notOurs, 'keep.txt'), 'mine\n');
    gitIn(repo.path, 'branch', 'lane/orphan-same', 'main');
    marked('lane/orphan-same');
    gitIn(repo.path, 'branch', 'lane/pushed', 'main');
    marked('lane/pushed');
    gitIn(repo.path, 'remote', 'add', 'origin', join(repo.base, 'nowhere.git'));
    gitIn(repo.path, 'config', 'branch.lane/pushed.remote', 'origin');
    gitIn(repo.path, 'config', 'branch.lane/pushed.merge', 'refs/heads/pushed');
    // A marker whose branch the user deleted with git.
    marked('lane/deleted-by-hand');
    gitIn(repo.path, 'branch', 'feature/unrelated', 'main');
    // The user's own lane/ branches: no marker, so never lanevisor's, whatever they hold.
    gitIn(repo.path, 'branch', 'lane/mine', 'main');
    gitIn(repo.path, 'checkout', '-q', '-b', 'lane/orphan-work');
    marked('lane/orphan-work');
    writeFileSync(join(repo.path, 'work.txt'), 'committed work\n');
    gitIn(repo.path, 'add', 'work.txt');
    gitIn(repo.path, 'commit', '-q', '-m', 'work');
    gitIn(repo.path, 'checkout', '-q', '-b', 'lane/release-1.0', 'main');
    gitIn(repo.path, 'commit', '-q', '--allow-empty', '-m', 'release');
    gitIn(repo.path, 'checkout', '-q', 'main');
    const snapshot = () => ({
      worktrees: gitIn(repo.path, 'worktree', 'list', '--porcelain'),
      refs: gitIn(repo.path, 'for-each-ref', '--format=%(refname) %(objectname)'),
      config: gitIn(repo.path, 'config', '--list', '--local'),
      directories: readdirSync(root).sort(),
    });
    const before = snapshot();

    const expected = {
      worktrees: { pruned: 1, removed: 3, kept: 1 },
      branches: { removed: 3, kept: 3 },
      lanes: { resumed: 0, cleaned: 0, salvaged: 0, stalled: 0 },
    };
    const expectedBranches = {
      removed: ['lane/orphan-same', 'lane/pruned', 'lane/unfinished'],
      kept: [
        { branch: 'lane/healthy', reason: 'checked_out' },
        { branch: 'lane/orphan-work', reason: 'commits' },
        { branch: 'lane/pushed', reason: 'upstream' },
      ],
    };
    const sorted = (branches: { removed: string[]; kept: { branch: string }[] }) => ({
      removed: [...branches.removed].sort(),
      kept: [...branches.kept].sort((a, b) => a.branch.localeCompare(b.branch)),
    });
    // A runtime told to leave orphans alone (on a state directory of its own beside another's
    // lanes, as `demo --repo` runs) counts and touches none of them.
    const beside = await createRuntime({
      repo: repo.path,
      stateDir: join(repo.base, 'beside-state'),
      reconcileOrphans: false,
    });
    await beside.shutdown();
    expect(beside.reconciliation).toMatchObject({
      worktrees: { pruned: 0, removed: 0, kept: 0 },
      branches: { removed: 0, kept: 0 },
      salvagedRefs: [],
    });
    expect(snapshot()).toEqual(before);

    const dry = await reconcile({ repo: repo.path, dryRun: true });
    expect(dry).toMatchObject({ ...expected, dryRun: true, salvagedRefs: [] });
    expect(sorted(dry.details.branches)).toEqual(expectedBranches);
    expect(dry.details.worktrees).toEqual({
      pruned: [pruned],
      removed: expect.arrayContaining([unfinished, stray, aside]),
      kept: [healthy],
    });
    expect(snapshot()).toEqual(before);

    const next = await start();
    const strayRef = `refs/lanevisor/salvage/${join(stray).split('/').pop()}`;
    expect(next.reconciliation).toMatchObject({ ...expected, dryRun: false, salvagedRefs: [strayRef] });
    expect(sorted(next.reconciliation.details.branches)).toEqual(expectedBranches);
    expect(next.reconciliation.details.worktrees).toEqual(dry.details.worktrees);
    expect(gitIn(repo.path, 'show', `${strayRef}:notes.txt`)).toBe('somebody wrote this');
    expect(readdirSync(root).sort()).toEqual([healthy.split('/').pop(), 'notes'].sort());
    expect(readFileSync(join(notOurs, 'keep.txt'), 'utf8')).toBe('mine\n');
    expect(existsSync(healthy)).toBe(true);
    const branches = gitIn(repo.path, 'for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads/').split('\n');
    expect(branches.sort()).toEqual(
      [
        'feature/unrelated',
        'lane/healthy',
        'lane/mine',
        'lane/orphan-work',
        'lane/pushed',
        'lane/release-1.0',
        'main',
      ].sort(),
    );
    // Kept branches are handed over (their markers gone), and so is the stale marker: nothing of ours is left.
    expect(gitIn(repo.path, 'for-each-ref', 'refs/lanevisor/branches/')).toBe('');
    expect(gitIn(repo.path, 'config', '--get', 'branch.lane/pushed.remote')).toBe('origin');
    expect(gitIn(repo.path, 'worktree', 'list', '--porcelain')).not.toContain(pruned);
    expect(gitIn(repo.path, 'worktree', 'list', '--porcelain')).not.toContain(unfinished);
    // Healthy worktrees without a record are left for a person: git still has them.
    expect(gitIn(repo.path, 'worktree', 'list', '--porcelain')).toContain(healthy);
  });

  it("lets a dead runtime's git finish, and after killing one that would not, removes the locks it left", async () => {
    repo = createTempRepo();
    const first = await start();
    const lane = await first.createLane({ label: 'locked' });
    await first.shutdown();
    rmSync(lane.worktreePath, { recursive: true });
    const dead = createRuntimeId();
    writeFileSync(
      join(first.stateDir, 'runtimes', `${dead}.json`),
      JSON.stringify({ version: 1, runtimeId: dead, pid: 999_999, startedAt: 1 }),
    );
    const tag = { LANEVISOR_RUNTIME_ID: dead };
    // A git of the dead runtime that ends by itself (a program named git), and one that never would.
    const bin = join(repo.base, 'bin');
    mkdirSync(bin);
    symlinkSync('/bin/sleep', join(bin, 'git'));
    const finishing = spawn(join(bin, 'git'), ['0.4'], { stdio: 'ignore', env: { ...process.env, ...tag } });
    const finished = new Promise<number | null>((resolve) => finishing.once('exit', resolve));
    const stuck = spawn('git', ['hash-object', '--stdin'], {
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { ...process.env, ...tag },
    });
    children.push(stuck);
    // What a git SIGTERMed between making its ref lock and registering it leaves behind.
    const staleLock = join(repo.path, '.git', 'refs', 'heads', 'lane', 'locked.lock');
    writeFileSync(staleLock, '');
    const userLock = join(repo.path, '.git', 'refs', 'heads', 'feature.lock');
    writeFileSync(userLock, '');

    const next = await start();
    expect(await finished).toBe(0);
    expect(isAlive(stuck.pid as number)).toBe(false);
    expect(next.reconciliation.lanes).toMatchObject({ resumed: 0, cleaned: 1, stalled: 0 });
    // git still listed the lane's worktree, whose directory was gone: its cleanup pruned that record.
    expect(next.reconciliation.worktrees).toEqual({ pruned: 1, removed: 0, kept: 0 });
    expect(next.reconciliation.details.worktrees.pruned).toEqual([lane.worktreePath]);
    expect(next.reconciliation.branches).toEqual({ removed: 1, kept: 0 });
    expect(existsSync(staleLock)).toBe(false);
    expect(existsSync(userLock)).toBe(true);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
    rmSync(userLock);
  }, 30_000);

  it('cleans a lane that never became ready with discard: a half-made checkout is not salvaged, its branch goes', async () => {
    repo = createTempRepo();
    const first = await start();
    const lane = await first.createLane({ label: 'half' });
    await first.shutdown();
    writeFileSync(join(lane.worktreePath, 'partial.txt'), 'what a killed checkout wrote\n');
    const recordFile = join(first.stateDir, 'lanes', `${lane.id}.json`);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(recordFile, JSON.stringify({ ...record, phase: 'provisioning' }));
    const dry = await reconcile({ repo: repo.path, dryRun: true });
    expect(dry.details.branches).toEqual({ removed: ['lane/half'], kept: [] });
    expect(dry.details.worktrees).toEqual({ pruned: [], removed: [lane.worktreePath], kept: [] });

    const next = await start();
    expect(next.reconciliation.lanes).toMatchObject({ cleaned: 1, salvaged: 0, stalled: 0 });
    expect(next.reconciliation.details.branches.removed).toEqual(['lane/half']);
    // The worktree and branch its record's cleanup removed are counted with the orphans'.
    expect(next.reconciliation).toMatchObject({
      worktrees: { pruned: 0, removed: 1, kept: 0 },
      branches: { removed: 1, kept: 0 },
    });
    expect(next.reconciliation.details.worktrees).toEqual(dry.details.worktrees);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
    expect(next.reconciliation.salvagedRefs).toEqual([]);
    expect(gitIn(repo.path, 'for-each-ref', 'refs/lanevisor/')).toBe('');
    expect(existsSync(lane.worktreePath)).toBe(false);
  });

  it('cleans a lane whose worktree git forgot, saving its files on top of the base', async () => {
    repo = createTempRepo();
    const first = await start();
    const lane = await first.createLane({ label: 'forgotten' });
    writeFileSync(join(lane.worktreePath, 'draft.txt'), 'draft\n');
    await first.shutdown();
    // git's record of the worktree is lost; the directory and the lane record remain.
    rmSync(join(repo.path, '.git', 'worktrees', lane.id), { recursive: true });

    const next = await start();
    expect(next.reconciliation.lanes).toMatchObject({ resumed: 0, cleaned: 1, salvaged: 1 });
    expect(next.reconciliation.worktrees).toEqual({ pruned: 0, removed: 1, kept: 0 });
    const [ref] = next.reconciliation.salvagedRefs;
    expect(gitIn(repo.path, 'show', `${ref}:draft.txt`)).toBe('draft');
    // The commit's parent is the lane's base, so the files the base had are there too.
    expect(gitIn(repo.path, 'rev-parse', `${ref}^`)).toBe(gitIn(repo.path, 'rev-parse', 'main'));
    expect(existsSync(lane.worktreePath)).toBe(false);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
  });

  it('closes a lane whose worktree is gone, and never acts on a record that points outside the worktree root', async () => {
    repo = createTempRepo();
    const first = await start();
    const gone = await first.createLane({ label: 'gone' });
    const outside = await first.createLane({ label: 'outside' });
    await first.shutdown();
    gitIn(repo.path, 'worktree', 'remove', '--force', '--force', gone.worktreePath);
    // A record edited (or corrupted) to name a directory elsewhere: it must not be removed.
    const elsewhere = join(repo.base, 'precious');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'keep.txt'), 'keep\n');
    const recordFile = join(first.stateDir, 'lanes', `${outside.id}.json`);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(recordFile, JSON.stringify({ ...record, phase: 'cleaning', worktreePath: elsewhere }));

    // The dry run says what follows: one lane closed, one cleanup refused, neither worktree counted removed.
    const dry = await reconcile({ repo: repo.path, dryRun: true });
    expect(dry.lanes).toMatchObject({ resumed: 0, cleaned: 1, stalled: 1 });
    const next = await start();
    expect(next.reconciliation.lanes).toMatchObject({ resumed: 0, cleaned: 1, stalled: 1 });
    // The outside lane's real worktree has no record now: kept, for a person.
    expect(next.reconciliation.worktrees).toEqual({ pruned: 0, removed: 0, kept: 1 });
    expect(next.reconciliation.details.worktrees).toEqual(dry.details.worktrees);
    expect(next.reconciliation.details.branches).toEqual(dry.details.branches);
    expect(next.getLane(gone.id)).toBeUndefined();
    expect(gitIn(repo.path, 'branch', '--list', 'lane/gone')).toBe('');
    expect(next.getLane(outside.id)?.state).toBe('cleaning');
    expect(readFileSync(join(elsewhere, 'keep.txt'), 'utf8')).toBe('keep\n');
    // The lane's real worktree has no record now: a later start leaves it to a person.
    expect(existsSync(outside.worktreePath)).toBe(true);
    await expect(next.getLane(outside.id)?.cleanup()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // A shutdown does not wait on a cleanup that needs a person: it leaves the lane, still to be cleaned.
    await next.shutdown();
    expect(JSON.parse(readFileSync(recordFile, 'utf8'))).toMatchObject({ phase: 'cleaning' });
    gitIn(repo.path, 'worktree', 'remove', '--force', '--force', outside.worktreePath);
    rmSync(recordFile);
  });
});
