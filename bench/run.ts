/**
 * `npm run bench [-- name...]`: runs the benchmarks (all, or those whose name starts with a given
 * prefix) one after the other and prints one JSON line per result. Not part of the tests: the
 * numbers go to docs/performance.md with the command that produced them.
 */
import { errorMessage } from '../bus/errors.js';
import { benchThroughput as benchBusThroughput, benchRequestLatency } from './bus.js';
import { benchConflictMatrix } from './conflicts.js';
import { benchBundle, benchDashboard, dashboardWindowMs } from './dashboard.js';
import { benchEcho } from './echo.js';
import { benchHostMemory, benchSnapshot, benchSpawnWithHeap } from './host.js';
import { benchCleanup, benchConcurrent, benchCreate } from './lanes.js';
import { benchNatsCreateLane, benchNatsEvents } from './nats.js';
import { benchFullRss, benchIdleRss, benchLoopDelay, benchSpawn, benchTerminate, benchThroughput } from './pty.js';
import { benchReadopt } from './readopt.js';
import { benchReconcile } from './recovery.js';
import { benchRestLanes, benchSseLatency, benchWebSocketEcho } from './server.js';
import { benchSparseLane } from './sparse.js';
import { type BenchResult, report } from './stats.js';

const BENCHMARKS: Record<string, () => Promise<BenchResult>> = {
  'bus.publish_deliver.1': () => benchBusThroughput(1, 2_000_000),
  'bus.publish_deliver.50': () => benchBusThroughput(50, 200_000),
  'bus.request_latency': () => benchRequestLatency(100_000),
  'pty.spawn': () => benchSpawn(200, 0),
  'pty.spawn.300_alive': () => benchSpawn(200, 300),
  'pty.echo.300_alive': () => benchEcho(1_000, 300),
  'pty.rss_idle.300': () => benchIdleRss(300),
  'pty.rss_idle.1000': () => benchIdleRss(1_000),
  'pty.rss_full.300': () => benchFullRss(300, 256 * 1024),
  'pty.loop_delay.50_flooding': () => benchLoopDelay(50, 3),
  'pty.throughput': () => benchThroughput(100_000_000, 5),
  'pty.terminate': () => benchTerminate(50),
  'lanes.create.tmpfs': () => benchCreate(2_000, 60, 'tmpfs'),
  'lanes.create.disk': () => benchCreate(2_000, 30, 'disk'),
  'lanes.cleanup.tmpfs': () => benchCleanup(2_000, 20, 'tmpfs'),
  'lanes.cleanup.disk': () => benchCleanup(2_000, 20, 'disk'),
  'lanes.concurrent.50.tmpfs': () => benchConcurrent(2_000, 50, 'tmpfs'),
  'lanes.concurrent.200.tmpfs': () => benchConcurrent(2_000, 200, 'tmpfs'),
  'lanes.concurrent.50.disk': () => benchConcurrent(2_000, 50, 'disk'),
  // 100 directories x 1,000 files; tmpfs: on this machine's disk one full worktree add took 5 s to 2 min.
  'sparse.100k.tmpfs': () => benchSparseLane(100, 1_000, 9, 'tmpfs'),
  'recovery.reconcile.50.disk': () => benchReconcile(2_000, 50, 3, 'disk'),
  'recovery.reconcile.50.tmpfs': () => benchReconcile(2_000, 50, 3, 'tmpfs'),
  'conflicts.matrix.20': () => benchConflictMatrix(20, 10),
  // The PTY benchmarks again through the terminal host; ratios are against raw in-process node-pty.
  'host.spawn': onHost(() => benchSpawn(200, 0)),
  'host.spawn.big_heap': onHost(() => benchSpawnWithHeap(180, 2_048)),
  'host.echo.300_alive': onHost(() => benchEcho(1_000, 300)),
  'host.throughput': onHost(() => benchThroughput(100_000_000, 5)),
  'host.loop_delay.50_flooding': onHost(() => benchLoopDelay(50, 3)),
  'host.rss_idle.300': onHost(() => benchIdleRss(300)),
  'host.memory.1000': onHost(() => benchHostMemory(1_000)),
  'host.snapshot': onHost(() => benchSnapshot(30)),
  'host.readopt.50x2': onHost(() => benchReadopt(50, 2)),
  'server.rest_lanes.50': () => benchRestLanes(50, 1_000),
  'server.sse_latency': () => benchSseLatency(1_000),
  'server.ws_echo': () => benchWebSocketEcho(1_000),
  // Chromium against `lanevisor serve` (issue #13): minutes long, never in CI. The flood and heap
  // window is LANEVISOR_BENCH_DASHBOARD_MS (default 5 minutes).
  'dashboard.bundle': () => benchBundle(),
  'dashboard.50_lanes.10_terminals': () =>
    benchDashboard({ lanes: 50, pages: 10, keystrokes: 200, windowMs: dashboardWindowMs(), idleMs: 20_000 }),
  // What CI runs (printed, failing only past 2x raw): a gross regression cannot land unseen.
  // The median, not the p95: 60 samples' p95 moves by a third between runs on a shared machine.
  'nats.events': () => benchNatsEvents(2_000, 20_000),
  'nats.create_lane': () => benchNatsCreateLane(30),
  'ci.host.spawn': onHost(() => withinTwiceRaw(benchSpawn(60, 0), 'p50Ratio')),
  // Echo is ~0.1-0.2 ms against a raw 0.05-0.1: a ratio near 2 is the socket round trip, not a
  // regression. It fails past 2x raw only when it also misses the 0.5 ms goal.
  'ci.host.echo': onHost(() => withinTwiceRaw(benchEcho(400, 0), 'p50Ratio', ['oursP50Ms', 0.5])),
};

/** Runs a benchmark with the terminal host as our side's backend, and says so in its result. */
function onHost(run: () => Promise<BenchResult>): () => Promise<BenchResult> {
  return async () => {
    const before = process.env.LANEVISOR_PTY_HOST;
    process.env.LANEVISOR_PTY_HOST = 'process';
    try {
      return { ...(await run()), backend: 'process' };
    } finally {
      if (before === undefined) delete process.env.LANEVISOR_PTY_HOST;
      else process.env.LANEVISOR_PTY_HOST = before;
    }
  };
}

/** CI's check: met while the ratio to raw stays within 2x (the full goals are the benchmarks' own). */
async function withinTwiceRaw(
  result: Promise<BenchResult>,
  ratio: string,
  orWithin?: readonly [field: string, bound: number],
): Promise<BenchResult> {
  const measured = await result;
  const value = Number(measured[ratio]);
  const spared = orWithin !== undefined && Number(measured[orWithin[0]]) <= orWithin[1];
  const goal = `${ratio} <= 2${orWithin ? ` or ${orWithin[0]} <= ${orWithin[1]}` : ''} (CI's coarse check)`;
  return { ...measured, goal, met: value <= 2 || spared };
}

const filters = process.argv.slice(2);
// A filter is a prefix (`host.` runs them all), except one that names a benchmark exactly:
// `host.spawn` runs that one, not `host.spawn.big_heap` as well.
const selected = Object.entries(BENCHMARKS).filter(
  ([name]) =>
    filters.length === 0 || filters.some((f) => name === f || (name.startsWith(f) && !Object.hasOwn(BENCHMARKS, f))),
);
if (selected.length === 0) {
  process.stderr.write(`no benchmark matches ${filters.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exitCode = 2;
}
/** A benchmark that stalls (a lost exit, a hung child) reports it instead of hanging the run. */
const BENCH_TIMEOUT_MS = 10 * 60 * 1000;

for (const [name, run] of selected) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<BenchResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ bench: name, error: `did not finish within ${BENCH_TIMEOUT_MS / 1000} s` }),
      BENCH_TIMEOUT_MS,
    );
  });
  try {
    let result = await Promise.race([run(), timeout]);
    report(result);
    // CI's coarse checks run on a shared machine whose load drifts: a miss is measured once more
    // (both results printed), and only a second miss fails the run.
    if (name.startsWith('ci.') && result.met === false) {
      result = await Promise.race([run(), timeout]);
      report({ ...result, retry: true });
    }
    if (name.startsWith('ci.') && result.met !== true) process.exitCode = 1;
  } catch (error) {
    report({ bench: name, error: errorMessage(error) });
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
  }
}
process.exit();
