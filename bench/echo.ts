import type { IPty } from 'node-pty';
import type { Pty } from '../supervision/pty/types.js';
import { type Floor, startFloor } from './floor.js';
import {
  benchBackend,
  createHarness,
  crowdRoom,
  killRaw,
  rawOutput,
  rawSubscription,
  spawnIdleCrowd,
  spawnRaw,
  waitForOutput,
} from './pty-harness.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize } from './stats.js';

const ECHO_P50_GOAL_MS = 0.5;
const ECHO_P95_GOAL_MS = 2;
const ECHO_RATIO_GOAL = 1.5;
export const RAW_ECHO_SCRIPT = 'stty raw -echo; echo ready; exec cat';

export async function echoRoundTrips(
  write: (s: string) => void,
  onData: (cb: (chunk: string) => void) => () => void,
  trips: number,
) {
  return summarize(await echoTripSamples(write, onData, trips));
}

/** Each trip's time: one character written, until a chunk holding it comes back. */
async function echoTripSamples(
  write: (s: string) => void,
  onData: (cb: (chunk: string) => void) => () => void,
  trips: number,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < trips; i++) {
    const token = String.fromCharCode(97 + (i % 26));
    const started = nowNs();
    await new Promise<void>((resolve) => {
      const off = onData((chunk) => {
        if (chunk.includes(token)) {
          off();
          resolve();
        }
      });
      write(token);
    });
    samples.push(elapsedMs(started));
  }
  return samples;
}

/** The sides take turns this many times, so that the machine's drift hits each alike. */
const ECHO_ROUNDS = 5;
/**
 * Untimed trips per side first: the first thousands of trips run code V8 has not optimized yet
 * (through the host, 3,000 cold trips cost the runtime 99 µs of CPU each, warm ones 32), and a
 * terminal used all day is warm.
 */
const ECHO_WARMUP_TRIPS = 3_000;

interface EchoSide {
  readonly write: (s: string) => void;
  readonly onData: (cb: (chunk: string) => void) => () => void;
  readonly samples: number[];
}

/**
 * input → echo through the whole path (state check, paced writer, fd, child, output buffer,
 * listeners), ours and raw, taking turns. Through the terminal host, also the floor: the same
 * trip through a bare second process in a session of its own, as the host is (floor.ts), which
 * no host the contract allows can beat; `floorRatio` is that floor against raw, `oursOverFloor`
 * what the host's own work adds to it. And the same floor in the benchmark's session:
 * `ownSessionCost` is what a session of its own costs a trip on this kernel (a scheduling group
 * of its own under CONFIG_SCHED_AUTOGROUP; 1 where there is none).
 */
export async function benchEcho(trips: number, alive: number): Promise<BenchResult> {
  const harness = createHarness(crowdRoom(alive));
  let crowd: Awaited<ReturnType<typeof spawnIdleCrowd>> | undefined;
  let raw: IPty | undefined;
  let floor: Floor | undefined;
  let sharedFloor: Floor | undefined;
  // Whatever fails, nothing is left running: the crowd, our PTY, the raw one, the floors' hosts.
  try {
    if (alive > 0) crowd = await spawnIdleCrowd(harness, alive);
    const pty = await harness.spawn({ command: 'bash', args: ['--norc', '--noprofile', '-c', RAW_ECHO_SCRIPT] });
    await waitForOutput(pty, 'ready');
    raw = spawnRaw('bash', ['--norc', '--noprofile', '-c', RAW_ECHO_SCRIPT]);
    await rawOutput(raw, 'ready');
    if (benchBackend() === 'process') {
      floor = await startFloor(RAW_ECHO_SCRIPT, 'ready');
      sharedFloor = await startFloor(RAW_ECHO_SCRIPT, 'ready', false);
    }
    // Someone listens on the bus, as in a runtime: pty.output events are made for every trip.
    harness.bus.subscribe('pty.output', () => undefined);
    const rawPty = raw;
    const ours: EchoSide = { write: (s) => pty.write(s), onData: (cb) => pty.onData(cb), samples: [] };
    const rawSide: EchoSide = { write: (s) => rawPty.write(s), onData: rawSubscription(rawPty), samples: [] };
    const floorSide = floor && sideOf(floor);
    const sharedFloorSide = sharedFloor && sideOf(sharedFloor);
    const sides = [ours, ...(floorSide && sharedFloorSide ? [floorSide, sharedFloorSide] : []), rawSide];
    for (const side of sides) await echoTripSamples(side.write, side.onData, ECHO_WARMUP_TRIPS);
    const perRound = Math.ceil(trips / ECHO_ROUNDS);
    for (let round = 0; round < ECHO_ROUNDS; round++) {
      for (const side of sides) side.samples.push(...(await echoTripSamples(side.write, side.onData, perRound)));
    }
    const bus = await busEventSamples(harness, pty, Math.min(trips, 200));
    const o = summarize(ours.samples);
    const r = summarize(rawSide.samples);
    const f = floorSide && summarize(floorSide.samples);
    const shared = sharedFloorSide && summarize(sharedFloorSide.samples);
    return {
      bench: 'pty.input_to_echo',
      trips: perRound * ECHO_ROUNDS,
      otherPtysAlive: alive,
      oursP50Ms: round(o.p50),
      oursP95Ms: round(o.p95),
      oursP99Ms: round(o.p99),
      rawP50Ms: round(r.p50),
      rawP95Ms: round(r.p95),
      rawP99Ms: round(r.p99),
      p50Ratio: round(o.p50 / r.p50),
      ...(f && shared
        ? {
            floorP50Ms: round(f.p50),
            floorRatio: round(f.p50 / r.p50),
            oursOverFloor: round(o.p50 / f.p50),
            sharedSessionFloorP50Ms: round(shared.p50),
            ownSessionCost: round(f.p50 / shared.p50),
          }
        : {}),
      busEventP50Ms: round(bus.p50),
      busEventP95Ms: round(bus.p95),
      goal: `p50 <= ${ECHO_P50_GOAL_MS} ms and <= ${ECHO_RATIO_GOAL}x raw, p95 <= ${ECHO_P95_GOAL_MS} ms (onData)`,
      met: o.p50 <= ECHO_P50_GOAL_MS && o.p50 <= ECHO_RATIO_GOAL * r.p50 && o.p95 <= ECHO_P95_GOAL_MS,
    };
  } finally {
    if (raw) await killRaw([raw]);
    await floor?.dispose();
    await sharedFloor?.dispose();
    try {
      await harness.dispose();
    } finally {
      await crowd?.dispose();
    }
  }
}

function sideOf(floor: Floor): EchoSide {
  return { write: floor.write, onData: floor.onData, samples: [] };
}

/** The bus view of the same trips: pty.output is batched over 5 ms by design. */
async function busEventSamples(harness: ReturnType<typeof createHarness>, pty: Pty, trips: number) {
  const samples: number[] = [];
  for (let i = 0; i < trips; i++) {
    const started = nowNs();
    await new Promise<void>((resolve) => {
      const off = harness.bus.subscribe('pty.output', () => {
        off();
        resolve();
      });
      pty.write('z');
    });
    samples.push(elapsedMs(started));
  }
  return summarize(samples);
}
