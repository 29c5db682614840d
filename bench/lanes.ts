import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createRuntime } from '../supervision/runtime/runtime.js';
import type { Runtime } from '../supervision/runtime/types.js';
import { type BenchResult, childCpuMs, elapsedMs, nowNs, round, summarize } from './stats.js';

const CREATE_P95_RATIO_GOAL = 1.3;
const CLEANUP_P95_GOAL_MS = 300;
const CONCURRENT_RATIO_GOAL = 1.2;
const BASH = { command: 'bash', args: ['--norc', '--noprofile', '-i'], env: { PS1: '$ ' } };

const git = (cwd: string, ...args: string[]) => execa('git', args, { cwd });

/**
 * Where the benchmark repositories live: the disk (the default temp dir), or tmpfs. On this kind of
 * machine the disk's write-back makes `git worktree add` take anywhere from 90 to 700 ms depending
 * on what was written before; tmpfs gives a clean comparison of lanevisor's overhead over git.
 */
export type BenchFs = 'disk' | 'tmpfs';
const TMPFS = '/dev/shm';

/** A repository of `files` small files in 40 directories, one commit. */
export async function makeRepo(files: number, fs: BenchFs): Promise<{ repo: string; dispose: () => void }> {
  const base = realpathSync(mkdtempSync(join(fs === 'tmpfs' ? TMPFS : tmpdir(), 'lanevisor-bench-lanes-')));
  const repo = join(base, 'repo');
  mkdirSync(repo);
  await git(repo, 'init', '-q', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const dir = join(repo, `dir${i % 40}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.txt`), `content ${i}\n`.repeat(4));
  }
  await git(repo, 'add', '-A');
  await git(repo, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', 'init');
  return { repo, dispose: () => rmSync(base, { recursive: true, force: true }) };
}

/**
 * Raw git adds its worktrees in the same directory as the runtime (its default `<repo>.lanes`): on
 * a disk, where a directory sits changes how long `worktree add` takes (up to 2x on this machine).
 */
function worktreeRootOf(repo: string): string {
  const root = `${repo}.lanes`;
  mkdirSync(root, { recursive: true });
  return root;
}

/** The raw baseline: one `git worktree add -b` and its removal (only the add is timed). */
async function rawAdd(repo: string, root: string, name: string): Promise<number> {
  const path = join(root, name);
  const started = nowNs();
  await git(repo, 'worktree', 'add', '-q', '-b', `raw/${name}`, path, 'HEAD');
  return elapsedMs(started);
}

async function rawRemove(repo: string, root: string, name: string): Promise<void> {
  await git(repo, 'worktree', 'remove', '--force', join(root, name));
  await git(repo, 'branch', '-D', `raw/${name}`);
}

interface SampleSession {
  readonly repo: string;
  readonly rawRoot: string;
  readonly rt: Runtime;
  /** Milliseconds per sample, ours and raw git's. */
  readonly ours: number[];
  readonly raw: number[];
}

/** A repository and a runtime on it for `work` to take samples in; both are gone afterwards. */
async function sampleLanes(
  files: number,
  fs: BenchFs,
  work: (session: SampleSession) => Promise<void>,
): Promise<{ ours: ReturnType<typeof summarize>; raw: ReturnType<typeof summarize> }> {
  const { repo, dispose } = await makeRepo(files, fs);
  const rt = await createRuntime({ repo });
  const session: SampleSession = { repo, rawRoot: worktreeRootOf(repo), rt, ours: [], raw: [] };
  try {
    await work(session);
  } finally {
    await rt.shutdown({ cleanupLanes: true });
    dispose();
  }
  return { ours: summarize(session.ours), raw: summarize(session.raw) };
}

/** createLane → ready against raw `git worktree add -b` on the same repository, interleaved. */
export async function benchCreate(files: number, samples: number, fs: BenchFs): Promise<BenchResult> {
  const { ours: o, raw: r } = await sampleLanes(files, fs, async ({ repo, rawRoot, rt, ours, raw }) => {
    const sampleOurs = async () => {
      const started = nowNs();
      const lane = await rt.createLane();
      ours.push(elapsedMs(started));
      await lane.cleanup({ discard: true });
    };
    const sampleRaw = async (i: number) => {
      raw.push(await rawAdd(repo, rawRoot, `w${i}`));
      await rawRemove(repo, rawRoot, `w${i}`);
    };
    // Which one goes first alternates: each follows the other's removal equally often.
    for (let i = 0; i < samples; i++) {
      if (i % 2 === 0) {
        await sampleOurs();
        await sampleRaw(i);
      } else {
        await sampleRaw(i);
        await sampleOurs();
      }
    }
  });
  return {
    bench: 'lanes.create_to_ready',
    fs,
    files,
    samples,
    oursP50Ms: round(o.p50, 1),
    oursP95Ms: round(o.p95, 1),
    rawWorktreeAddP50Ms: round(r.p50, 1),
    rawWorktreeAddP95Ms: round(r.p95, 1),
    p95Ratio: round(o.p95 / r.p95),
    goal: `p95 <= ${CREATE_P95_RATIO_GOAL}x raw`,
    met: o.p95 <= CREATE_P95_RATIO_GOAL * r.p95,
  };
}

/** lane.cleanup() of a lane with 4 interactive shells, against raw `worktree remove` + `branch -D`. */
export async function benchCleanup(files: number, samples: number, fs: BenchFs): Promise<BenchResult> {
  const { ours: o, raw: r } = await sampleLanes(files, fs, async ({ repo, rawRoot, rt, ours, raw }) => {
    for (let i = 0; i < samples; i++) {
      const lane = await rt.createLane();
      for (let p = 0; p < 4; p++) await lane.spawnPty(BASH);
      let started = nowNs();
      await lane.cleanup();
      ours.push(elapsedMs(started));
      await rawAdd(repo, rawRoot, `c${i}`);
      started = nowNs();
      await rawRemove(repo, rawRoot, `c${i}`);
      raw.push(elapsedMs(started));
    }
  });
  return {
    bench: 'lanes.cleanup_4_ptys',
    fs,
    files,
    samples,
    oursP50Ms: round(o.p50, 1),
    oursP95Ms: round(o.p95, 1),
    rawRemoveP50Ms: round(r.p50, 1),
    rawRemoveP95Ms: round(r.p95, 1),
    goal: `p95 <= ${CLEANUP_P95_GOAL_MS} ms`,
    met: o.p95 <= CLEANUP_P95_GOAL_MS,
  };
}

/**
 * N lanes created at once (until all are ready) against N raw `worktree add` one after the other,
 * the raw run measured before and after ours (their mean is the baseline: write-back from one run
 * slows the next). The CPU time of git's processes is reported beside each: on a disk, how long a
 * `worktree add` takes is mostly git's own kernel time, which drifts between runs.
 */
export async function benchConcurrent(files: number, lanes: number, fs: BenchFs): Promise<BenchResult> {
  const { repo, dispose } = await makeRepo(files, fs);
  const rawRoot = worktreeRootOf(repo);
  const rawSerial = async (tag: string) => {
    const cpu = childCpuMs();
    const started = nowNs();
    for (let i = 0; i < lanes; i++) await rawAdd(repo, rawRoot, `${tag}${i}`);
    const took = { wallMs: elapsedMs(started), gitCpuMs: childCpuMs() - cpu };
    for (let i = 0; i < lanes; i++) await rawRemove(repo, rawRoot, `${tag}${i}`);
    return took;
  };
  let rt: Runtime | undefined;
  try {
    const rawBefore = await rawSerial('a');
    rt = await createRuntime({ repo, maxLanes: lanes });
    const runtime = rt;
    const cpu = childCpuMs();
    const started = nowNs();
    const created = await Promise.allSettled(Array.from({ length: lanes }, () => runtime.createLane()));
    const oursMs = elapsedMs(started);
    const oursGitCpuMs = childCpuMs() - cpu;
    const failures = created.filter((r) => r.status === 'rejected').length;
    const cleanupStarted = nowNs();
    const cleaned = await Promise.allSettled(runtime.lanes().map((lane) => lane.cleanup({ discard: true })));
    const cleanupMs = elapsedMs(cleanupStarted);
    const rawAfter = await rawSerial('b');
    const rawSerialMs = (rawBefore.wallMs + rawAfter.wallMs) / 2;
    return {
      bench: 'lanes.concurrent_create',
      fs,
      files,
      lanes,
      oursWallMs: Math.round(oursMs),
      rawSerializedMs: Math.round(rawSerialMs),
      rawRunsMs: [Math.round(rawBefore.wallMs), Math.round(rawAfter.wallMs)],
      oursGitCpuMs: Math.round(oursGitCpuMs),
      rawGitCpuMs: [Math.round(rawBefore.gitCpuMs), Math.round(rawAfter.gitCpuMs)],
      ratio: round(oursMs / rawSerialMs),
      failures,
      cleanupWallMs: Math.round(cleanupMs),
      cleanupFailures: cleaned.filter((r) => r.status === 'rejected').length,
      goal: `wall <= ${CONCURRENT_RATIO_GOAL}x serialized raw git, 0 failures`,
      met: oursMs <= CONCURRENT_RATIO_GOAL * rawSerialMs && failures === 0,
    };
  } finally {
    await rt?.shutdown({ cleanupLanes: true });
    dispose();
  }
}
