import { readProcStat } from '../actors/process/proc.js';

/** Small helpers shared by the benchmarks: percentiles, timing and the one-line JSON result. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(samples: readonly number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
  };
}

export const nowNs = (): bigint => process.hrtime.bigint();
export const elapsedMs = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6;

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

export interface BenchResult {
  readonly bench: string;
  readonly [key: string]: unknown;
}

export function report(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * CPU time (user + system) of this process's children that have ended, in milliseconds: for the git
 * benchmarks, how much work git itself did, whoever ran it.
 */
export function childCpuMs(): number {
  return (readProcStat(process.pid)?.childCpuTicks ?? Number.NaN) * CLOCK_TICK_MS;
}
/** Linux's USER_HZ is 100 on every architecture Node runs on. */
export const CLOCK_TICK_MS = 10;

export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
