import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readProcStat } from '../actors/process/proc.js';
import { CLOCK_TICK_MS, elapsedMs, nowNs, round } from './stats.js';

/**
 * The dashboard benchmark's side of `lanevisor serve`: starting and stopping it in its own
 * process, its HTTP API, and the CPU time it (and its terminal host, and the browser) spends over
 * a window with nothing asked of them.
 */
export const MAIN = resolve(import.meta.dirname, '../cli/main.js');
/** The idle window is read in this many slices, to see whether it settles. */
const IDLE_SLICES = 5;

export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly token: string;
  readonly pid: number;
}

export interface LaneJson {
  readonly id: string;
  readonly label: string;
  readonly ptys: ReadonlyArray<{ id: string; activity?: string; lastLine?: string }>;
}

export async function startServe(repo: string): Promise<Served> {
  // The default backend (the terminal host), as a user's `serve` runs.
  const env = { ...process.env };
  delete env.LANEVISOR_PTY_HOST;
  const child = spawn(process.execPath, [MAIN, 'serve', '--json', '--repo', repo], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  const line = await new Promise<string>((resolveLine, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      child.stdout?.off('data', onData);
      resolveLine(buffer.slice(0, newline));
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`serve exited (${code ?? signal}) before its address`)));
  });
  // Keep reading so that a full pipe never blocks the server.
  child.stdout?.resume();
  const { url, token, pid } = JSON.parse(line) as { url: string; token: string; pid: number };
  return { child, url, token, pid };
}

export async function stopServe(served: Pick<Served, 'child'>): Promise<void> {
  const { child } = served;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** One request to a served API with its token (the benchmarks and the browser tests). */
export async function callApi<T>(
  served: Pick<Served, 'url' | 'token'>,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(new URL(path, served.url), {
    method,
    headers: { authorization: `Bearer ${served.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const value = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(value)}`);
  return value;
}

/** Every process below `root` (the terminal host below `serve`, Chromium's below this one). */
export function descendants(root: number): Array<{ pid: number; comm: string; cpuTicks: number }> {
  const all: Array<{ pid: number; ppid: number; comm: string; cpuTicks: number }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat !== undefined) all.push({ pid: stat.pid, ppid: stat.ppid, comm: stat.comm, cpuTicks: stat.cpuTicks });
  }
  const found: Array<{ pid: number; comm: string; cpuTicks: number }> = [];
  const parents = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const proc of all) {
      if (parents.has(proc.ppid) && !parents.has(proc.pid)) {
        parents.add(proc.pid);
        found.push(proc);
        grew = true;
      }
    }
  }
  return found;
}

export const cpuTicksOf = (pid: number): number => readProcStat(pid)?.cpuTicks ?? Number.NaN;
export const sumTicks = (procs: ReadonlyArray<{ cpuTicks: number }>) => procs.reduce((sum, p) => sum + p.cpuTicks, 0);
export const percentOfCore = (ticks: number, ms: number) => round(((ticks * CLOCK_TICK_MS) / ms) * 100, 2);

export interface IdleWindow {
  readonly seconds: number;
  /** Processes on the machine when the window began. */
  readonly processes: number;
  /** `serve`'s CPU time over the window, as a share of one core. */
  readonly servePercent: number;
  /** The same for each fifth of the window, to see whether it settles. */
  readonly serveSlicesPercent: number[];
  readonly hostPercent: number;
  readonly browserPercent: number;
  /** Each page's main-thread task time in the window (CDP `TaskDuration`), as a share of one core. */
  readonly pagesMainThreadPercent: number[];
  /** HTTP requests the pages made, and chars of WebSocket frames they received, in the window. */
  readonly requests: number;
  readonly frameChars: number;
}

/** CPU of `serve`, its terminal host and the browser over `ms`, with nothing asked of them. */
export async function idleWindow(
  servePid: number,
  ms: number,
  counters: () => { requests: number; frameChars: number },
  pageTasks: () => Promise<number[]> = async () => [],
): Promise<IdleWindow> {
  const host = () => sumTicks(descendants(servePid).filter((proc) => proc.comm !== 'bash'));
  const browser = () => sumTicks(descendants(process.pid).filter((proc) => proc.comm.startsWith('chrom')));
  const before = { serve: cpuTicksOf(servePid), host: host(), browser: browser(), ...counters() };
  const tasksBefore = await pageTasks();
  // The runtime's lane health checks scan all of /proc: what the machine runs changes their cost.
  const processes = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
  const started = nowNs();
  const slices: number[] = [];
  let sliceTicks = before.serve;
  for (let i = 1; i <= IDLE_SLICES; i++) {
    await sleep(started, (ms * i) / IDLE_SLICES);
    const now = cpuTicksOf(servePid);
    slices.push(percentOfCore(now - sliceTicks, ms / IDLE_SLICES));
    sliceTicks = now;
  }
  const elapsed = elapsedMs(started);
  const after = counters();
  const tasksAfter = await pageTasks();
  return {
    seconds: round(elapsed / 1000, 1),
    processes,
    servePercent: percentOfCore(cpuTicksOf(servePid) - before.serve, elapsed),
    serveSlicesPercent: slices,
    hostPercent: percentOfCore(host() - before.host, elapsed),
    browserPercent: percentOfCore(browser() - before.browser, elapsed),
    pagesMainThreadPercent: tasksAfter.map((ms, i) => round(((ms - (tasksBefore[i] ?? 0)) / elapsed) * 100, 2)),
    requests: after.requests - before.requests,
    frameChars: after.frameChars - before.frameChars,
  };
}

/** Resolves `ms` after `since` (a `nowNs()`), so that slices do not drift. */
export const sleep = (since: bigint, ms: number) =>
  new Promise((resolveSleep) => setTimeout(resolveSleep, Math.max(0, ms - elapsedMs(since))));
export const pause = (ms: number) => sleep(nowNs(), ms);

/**
 * Until no terminal is `working` (the pages refresh the lane list every 2 s while one is), and
 * 5 s more for the last refreshes and activity changes to pass.
 */
export async function waitUntilQuiet(served: Served): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lanes = await callApi<LaneJson[]>(served, 'GET', '/api/lanes');
    const working = lanes.some((lane) => lane.ptys.some((pty) => pty.activity === 'working'));
    if (!working || Date.now() > deadline) break;
    await pause(250);
  }
  await pause(5_000);
}

/** A Chromium process's `--type=` (renderer, gpu-process, utility, …), `browser` for the main one. */
function chromiumType(pid: number): string {
  try {
    const type = /--type=([\w-]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
    return type?.[1] ?? 'browser';
  } catch {
    return 'gone';
  }
}

/** Every process that makes a share of the machine busy during a flood, grouped by what it is. */
function busyTicks(servePid: number): Map<string, number> {
  const groups = new Map<string, number>();
  const add = (group: string, ticks: number) => groups.set(group, (groups.get(group) ?? 0) + ticks);
  add('serve', cpuTicksOf(servePid));
  for (const proc of descendants(servePid)) add(proc.comm === 'lanevisor-host' ? 'host' : proc.comm, proc.cpuTicks);
  for (const proc of descendants(process.pid)) {
    if (proc.comm.startsWith('chrom')) add(`chromium ${chromiumType(proc.pid)}`, proc.cpuTicks);
  }
  return groups;
}

/**
 * Where the CPU goes meanwhile (the flood): `serve`, its terminal host, the shells and `yes`, and
 * Chromium by process type, each as a share of one core (a 2-core machine has 200 %), with each
 * page's main-thread task time (CDP `TaskDuration`).
 */
export async function startCpuMeter(
  servePid: number,
  pageTasks: () => Promise<number[]>,
): Promise<() => Promise<{ percentOfCore: Record<string, number>; pagesMainThreadPercent: number[] }>> {
  const before = busyTicks(servePid);
  const tasksBefore = await pageTasks();
  const started = nowNs();
  return async () => {
    const elapsed = elapsedMs(started);
    const after = busyTicks(servePid);
    const tasksAfter = await pageTasks();
    const percent: Record<string, number> = {};
    for (const [group, ticks] of after) percent[group] = percentOfCore(ticks - (before.get(group) ?? 0), elapsed);
    return {
      percentOfCore: percent,
      pagesMainThreadPercent: tasksAfter.map((ms, i) => round(((ms - (tasksBefore[i] ?? 0)) / elapsed) * 100, 2)),
    };
  };
}
