/**
 * `npm run bench [-- name...]`: runs the benchmarks (all, or those whose name starts with a given
 * prefix) one after the other and prints one JSON line per result. Not part of the tests: the
 * numbers go to docs/performance.md with the command that produced them.
 */
import { benchThroughput as benchBusThroughput, benchRequestLatency } from './bus.js';
import { benchEcho, benchFullRss, benchIdleRss, benchLoopDelay, benchSpawn, benchThroughput } from './pty.js';
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
  'pty.throughput': () => benchThroughput(100_000_000, 3),
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
