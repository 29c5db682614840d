/**
 * `npm run bench [-- name...]`: runs the benchmarks (all, or those whose name starts with a given
 * prefix) one after the other and prints one JSON line per result. Not part of the tests: the
 * numbers go to docs/performance.md with the command that produced them.
 */
import { benchRequestLatency, benchThroughput } from './bus.js';
import { type BenchResult, report } from './stats.js';

const BENCHMARKS: Record<string, () => Promise<BenchResult>> = {
  'bus.publish_deliver.1': () => benchThroughput(1, 2_000_000),
  'bus.publish_deliver.50': () => benchThroughput(50, 200_000),
  'bus.request_latency': () => benchRequestLatency(100_000),
};

const filters = process.argv.slice(2);
const selected = Object.entries(BENCHMARKS).filter(
  ([name]) => filters.length === 0 || filters.some((f) => name.startsWith(f)),
);
if (selected.length === 0) {
  process.stderr.write(`no benchmark matches ${filters.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exitCode = 2;
}
for (const [, run] of selected) report(await run());
