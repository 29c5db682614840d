import { readFileSync } from 'node:fs';
import type { Pty } from '../supervision/pty/types.js';
import { createHarness, firstOutput, killRaw, rawOutput, settledRss, spawnRaw } from './pty-harness.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize } from './stats.js';

/**
 * The terminal host's own benchmarks: what a big orchestrator costs a spawn with and without the
 * host, the host's memory with full mirrors, and a snapshot (taking 100 PTYs over after a crash is
 * readopt.ts).
 * The spawn, echo and throughput figures through the host are the PTY benchmarks of pty.ts and
 * echo.ts run
 * with LANEVISOR_PTY_HOST=process (see run.ts).
 */
const HEAP_SPAWN_RATIO_GOAL = 1.1;
const HOST_BASE_MB_GOAL = 100;
const HOST_PER_PTY_MB_GOAL = 2.5;
const SNAPSHOT_GOAL_MS = 50;

/**
 * Small-heap and big-heap blocks alternate this many times: the machine's drift (a small-heap p95
 * moved from 6.8 to 10.7 ms between runs) then hits both sides of the ratio alike.
 */
const HEAP_SPAWN_ROUNDS = 3;
const BALLAST_RELEASE_MS = 10_000;
/** What a dropped ballast may leave above the RSS the benchmark began with. */
const BALLAST_RESIDUE_BYTES = 128 * 2 ** 20;

/** Keeps `mib` MiB of the orchestrator's memory in use (touched, so the pages exist and fork must copy their tables). */
function ballast(mib: number): Buffer[] {
  const blocks: Buffer[] = [];
  for (let i = 0; i < mib / 64; i++) blocks.push(Buffer.alloc(64 * 1024 * 1024, i & 0xff));
  return blocks;
}

async function spawnSamples(spawnOne: () => Promise<() => Promise<void>>, samples: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = nowNs();
    const stop = await spawnOne();
    times.push(elapsedMs(started));
    await stop();
  }
  return times;
}

/**
 * Waits for a dropped ballast's memory to be gone (up to BALLAST_RELEASE_MS): Buffers go back
 * only when the collector has run and V8 has swept their backing stores, on a thread of its own.
 */
async function releaseBallast(rssBefore: number): Promise<void> {
  globalThis.gc?.();
  const deadline = Date.now() + BALLAST_RELEASE_MS;
  while (process.memoryUsage().rss > rssBefore + BALLAST_RESIDUE_BYTES) {
    // Without it the next small-heap block would be timed with the big heap.
    if (Date.now() > deadline)
      throw new Error(`the ballast was not released within ${BALLAST_RELEASE_MS} ms (run with --expose-gc)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** spawn → first output with a small orchestrator, then with `heapMiB` in use: through the host, and raw in-process. */
export async function benchSpawnWithHeap(samples: number, heapMiB: number): Promise<BenchResult> {
  const harness = createHarness();
  const ours = async () => {
    const pty = await harness.spawn();
    await firstOutput(pty);
    return async () => void (await pty.terminate({ graceMs: 1_000 }));
  };
  const raw = async () => {
    const pty = spawnRaw();
    await rawOutput(pty);
    return () => killRaw([pty]);
  };
  const times = { small: [] as number[], rawSmall: [] as number[], big: [] as number[], rawBig: [] as number[] };
  const perBlock = Math.ceil(samples / HEAP_SPAWN_ROUNDS);
  let rssWithBallast = 0;
  let rssWithout = 0;
  const rssAtStart = process.memoryUsage().rss;
  for (let i = 0; i < HEAP_SPAWN_ROUNDS; i++) {
    rssWithout = Math.max(rssWithout, process.memoryUsage().rss);
    times.small.push(...(await spawnSamples(ours, perBlock)));
    times.rawSmall.push(...(await spawnSamples(raw, perBlock)));
    const heap = ballast(heapMiB);
    rssWithBallast = Math.max(rssWithBallast, process.memoryUsage().rss);
    times.big.push(...(await spawnSamples(ours, perBlock)));
    times.rawBig.push(...(await spawnSamples(raw, perBlock)));
    heap.length = 0;
    await releaseBallast(rssAtStart);
  }
  await harness.dispose();
  const [small, rawSmall, big, rawBig] = [
    summarize(times.small),
    summarize(times.rawSmall),
    summarize(times.big),
    summarize(times.rawBig),
  ];
  return {
    bench: 'host.spawn_with_big_heap',
    samples: perBlock * HEAP_SPAWN_ROUNDS,
    rounds: HEAP_SPAWN_ROUNDS,
    heapMiB,
    rssWithHeapMiB: round(rssWithBallast / 2 ** 20, 0),
    rssSmallHeapMiB: round(rssWithout / 2 ** 20, 0),
    hostSmallHeapP95Ms: round(small.p95),
    hostBigHeapP95Ms: round(big.p95),
    rawSmallHeapP95Ms: round(rawSmall.p95),
    rawBigHeapP95Ms: round(rawBig.p95),
    hostRatio: round(big.p95 / small.p95),
    rawRatio: round(rawBig.p95 / rawSmall.p95),
    goal: `with the host, p95 with ${heapMiB} MiB in use <= ${HEAP_SPAWN_RATIO_GOAL}x the small-heap p95`,
    met: big.p95 <= HEAP_SPAWN_RATIO_GOAL * small.p95,
  };
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** The host's memory with `count` PTYs each showing a full 1,000-line history, and the orchestrator's per PTY. */
export async function benchHostMemory(count: number): Promise<BenchResult> {
  const harness = createHarness({ maxPtys: count + 10 });
  await harness.terminalHost?.connect();
  const hostPid = harness.terminalHost?.hostPid as number;
  const hostBefore = rssOf(hostPid);
  const ourBefore = await settledRss();
  const lines =
    'for i in $(seq 1 1100); do printf "%05d %s\\n" $i "the quick brown fox jumps over the lazy dog, again and again"; done; exec sleep 600';
  const ptys: Pty[] = [];
  for (let i = 0; i < count; i++)
    ptys.push(await harness.spawn({ command: 'bash', args: ['--norc', '--noprofile', '-c', lines] }));
  // Every mirror parses once its PTY went quiet; a snapshot waits until it has.
  for (const pty of ptys) await pty.snapshot({ scrollbackLines: 0 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const hostAfter = rssOf(hostPid);
  const ourAfter = await settledRss();
  await harness.dispose();
  const perPtyMb = (hostAfter - hostBefore) / count / 2 ** 20;
  return {
    bench: 'host.memory_full_mirrors',
    ptys: count,
    hostBaseMb: round(hostBefore / 2 ** 20, 1),
    hostMb: round(hostAfter / 2 ** 20, 1),
    hostPerPtyMb: round(perPtyMb, 2),
    orchestratorPerPtyKb: round((ourAfter - ourBefore) / count / 1024, 1),
    goal: `host <= ${HOST_BASE_MB_GOAL} MB + ${HOST_PER_PTY_MB_GOAL} MB per PTY; orchestrator <= 100 KB per PTY`,
    met:
      hostAfter / 2 ** 20 <= HOST_BASE_MB_GOAL + HOST_PER_PTY_MB_GOAL * count &&
      ourAfter - ourBefore <= 100 * 1024 * count,
  };
}

/** `snapshot()` of a PTY showing 1,000 lines of 80 columns (its mirror parsed: the PTY is quiet). */
export async function benchSnapshot(samples: number): Promise<BenchResult> {
  const harness = createHarness();
  const lines = 'for i in $(seq 1 1000); do printf "%04d %075d\\n" $i $i; done; exec sleep 600';
  const pty = await harness.spawn({ command: 'bash', args: ['--norc', '--noprofile', '-c', lines] });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await pty.snapshot();
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < samples; i++) {
    const started = nowNs();
    bytes = (await pty.snapshot({ scrollbackLines: 1_000 })).length;
    times.push(elapsedMs(started));
  }
  await harness.dispose();
  const s = summarize(times);
  return {
    bench: 'host.snapshot_1000_lines',
    samples,
    snapshotChars: bytes,
    p50Ms: round(s.p50),
    p95Ms: round(s.p95),
    goal: `< ${SNAPSHOT_GOAL_MS} ms`,
    met: s.p95 < SNAPSHOT_GOAL_MS,
  };
}
