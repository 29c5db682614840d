import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { readProcStat } from '../actors/process/proc.js';
import { runtimeProcesses as tagged } from '../supervision/recovery/process-recovery.js';
import { createRuntime } from '../supervision/runtime/runtime.js';
import { type BenchFs, makeRepo } from './lanes.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize } from './stats.js';

const RECONCILE_GOAL_MS = 1_000;
/** A PTY that survives the hangup of its terminal when its runtime dies, with a child, as agents often do. */
const SURVIVING_PTY = { command: 'bash', args: ['--norc', '--noprofile', '-c', "trap '' HUP; sleep 600 & wait"] };

/**
 * A runtime in a child process makes `lanes` lanes with a PTY each and is SIGKILLed; returns the
 * dead runtime's id once its orphans are settled.
 */
async function orphanLanes(repo: string, lanes: number): Promise<string> {
  const index = new URL('../index.js', import.meta.url).href;
  const script = `
    import { createRuntime } from ${JSON.stringify(index)};
    const rt = await createRuntime({ repo: ${JSON.stringify(repo)}, maxLanes: ${lanes} });
    const lanes = await Promise.all(Array.from({ length: ${lanes} }, () => rt.createLane()));
    await Promise.all(lanes.map((lane) => lane.spawnPty(${JSON.stringify(SURVIVING_PTY)})));
    console.log(rt.id);
    setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const runtimeId = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the runtime child exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  // Each PTY leaves its shell and its sleep.
  const deadline = Date.now() + 10_000;
  while (tagged(runtimeId).length < lanes * 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return runtimeId;
}

/**
 * The raw baseline: what a script that knew the answer would do at least: list git's worktrees,
 * find the dead runtime's processes in /proc, SIGTERM them and wait until they are gone.
 */
async function rawReconcile(repo: string, runtimeId: string): Promise<number> {
  const started = nowNs();
  await execa('git', ['worktree', 'list', '--porcelain'], { cwd: repo });
  const pids = tagged(runtimeId);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  while (pids.some((pid) => readProcStat(pid) !== undefined && readProcStat(pid)?.state !== 'Z')) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return elapsedMs(started);
}

/**
 * Startup reconciliation of `lanes` lanes a SIGKILLed runtime left, each with a running PTY:
 * createRuntime's time until it resolves (every orphan stopped, every lane back `ready`).
 */
export async function benchReconcile(files: number, lanes: number, samples: number, fs: BenchFs): Promise<BenchResult> {
  const ours: number[] = [];
  const raw: number[] = [];
  const reports: number[] = [];
  let found = 0;
  for (let sample = 0; sample < samples; sample++) {
    const { repo, dispose } = await makeRepo(files, fs);
    try {
      await orphanLanes(repo, lanes);
      const started = nowNs();
      const rt = await createRuntime({ repo, maxLanes: lanes });
      ours.push(elapsedMs(started));
      reports.push(rt.reconciliation.durationMs);
      found = rt.reconciliation.processes.found;
      if (rt.reconciliation.lanes.resumed !== lanes)
        throw new Error(`resumed ${rt.reconciliation.lanes.resumed} of ${lanes}`);
      await rt.shutdown({ cleanupLanes: true });
      // The same state again, for the raw baseline; then cleaned up (untimed).
      raw.push(await rawReconcile(repo, await orphanLanes(repo, lanes)));
      const cleanup = await createRuntime({ repo, maxLanes: lanes });
      await cleanup.shutdown({ cleanupLanes: true });
    } finally {
      dispose();
    }
  }
  const o = summarize(ours);
  const r = summarize(raw);
  return {
    bench: 'recovery.reconcile',
    fs,
    files,
    lanes,
    samples,
    processesFound: found,
    oursMs: { p50: Math.round(o.p50), max: Math.round(o.max) },
    reportedMs: Math.round(summarize(reports).p50),
    rawMs: { p50: Math.round(r.p50), max: Math.round(r.max) },
    ratioP50: round(o.p50 / r.p50),
    goal: `createRuntime over ${lanes} orphaned lanes with PTYs < ${RECONCILE_GOAL_MS} ms`,
    met: o.max < RECONCILE_GOAL_MS,
  };
}
