import { spawn } from 'node:child_process';
import type { Pty } from '../supervision/pty/types.js';
import { createRuntime } from '../supervision/runtime/runtime.js';
import { makeRepo } from './lanes.js';
import { type BenchResult, elapsedMs, nowNs, round } from './stats.js';

const READOPT_GOAL_MS = 1_000;
/**
 * A line every 20 ms per PTY, 5,000 a second over 100 PTYs. At 2 ms a line (the first version) the
 * 100 counters alone, printing to /dev/null, took 1.6 of this machine's 2 cores (1,500 lines each:
 * 6.5 s instead of 3, 10.2 s of CPU), so the host, the runtime and git waited for a CPU and the
 * benchmark timed that (createRuntime 11-12.6 s, the host not answering for 7 s); at 20 ms they
 * take 0.44 of a core.
 */
const COUNTER_LINE_MS = 20;
/** About 20 s of counting: longer than the kill and the adoption take together. */
const COUNTER_LINES = 1_000;
/** How often a counter looks for the start file while it waits for its siblings to be spawned. */
const COUNTER_WAIT_POLL_S = 0.01;
/** The benchmark never hangs: PTYs still short of their last line by then are reported, and the goal missed. */
const READOPT_DRAIN_TIMEOUT_MS = 120_000;
/** Long enough for the dead runtime to have read and acknowledged some lines of every PTY. */
const KILL_AFTER_READY_MS = 300;
const ADOPT_AFTER_KILL_MS = 500;
const DONE_LINE = 'done\r\n';

/**
 * Numbered lines every COUNTER_LINE_MS without a fork per line (`read -t` on a pipe nobody writes to: a
 * `sleep` per line made 100 PTYs fork 50,000 times a second, and the benchmark timed the load).
 * Every counter waits for the start file, made once all of them are spawned: spawning 100 takes
 * longer than one counts (17.5 s at 50 x 2), so counters that started with their PTY had ended
 * before the crash, their whole output read by the dead runtime, and the benchmark waited forever
 * for a last line that had come and gone.
 */
function counterScript(startFile: string): string {
  return [
    `exec 9<> <(:); until [ -e '${startFile}' ]; do read -t ${COUNTER_WAIT_POLL_S} -u 9; done`,
    `i=0; while [ $i -lt ${COUNTER_LINES} ]; do echo "line $i"; i=$((i+1)); read -t ${COUNTER_LINE_MS / 1000} -u 9; done`,
    'echo done; exec sleep 600',
  ].join('; ');
}

/** Everything a counter prints, as the terminal delivers it. */
function counterOutput(): string {
  let text = '';
  for (let i = 0; i < COUNTER_LINES; i++) text += `line ${i}\r\n`;
  return text + DONE_LINE;
}

interface Received {
  readonly text: string;
  readonly complete: boolean;
}

/** A PTY's output from its first retained byte up to the counter's last line, or what came before the deadline. */
async function readUntilDone(pty: Pty, deadline: Promise<void>): Promise<Received> {
  const chunks: string[] = [];
  let tail = '';
  const iterator = pty.output()[Symbol.asyncIterator]();
  const timedOut = deadline.then(() => 'timeout' as const);
  for (;;) {
    const next = await Promise.race([iterator.next(), timedOut]);
    if (next === 'timeout' || next.done) break;
    chunks.push(next.value);
    tail = (tail + next.value).slice(-DONE_LINE.length);
    if (tail === DONE_LINE) {
      await iterator.return?.();
      return { text: chunks.join(''), complete: true };
    }
  }
  void iterator.return?.();
  return { text: chunks.join(''), complete: false };
}

/** The number of the first whole line in what was received: how far the counter was when the new runtime took over. */
function firstLineOf(text: string): number | undefined {
  // A line cut at the start of what was received lacks its "line " prefix, so it never matches.
  const match = /^line (\d+)\r$/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/**
 * A runtime in a child process with `lanes` lanes of `ptys` PTYs, all counting, is SIGKILLed;
 * timed: `createRuntime` until every lane is back with its PTYs taken over. Then each PTY's
 * output in the new runtime must be exactly the end of what its counter printed, through its
 * last line: a byte lost, repeated or reordered anywhere after the dead runtime's last
 * acknowledgement breaks that. Each must also have been counting when the runtime died (its
 * first line received is past line 0 and before the last), so the seam of the crash is checked.
 */
export async function benchReadopt(lanes: number, ptys: number): Promise<BenchResult> {
  const { repo, dispose } = await makeRepo(200, 'tmpfs');
  const startFile = `${repo}.counting`;
  const script = `
    import { writeFileSync } from 'node:fs';
    import { createRuntime } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
    const rt = await createRuntime({ repo: ${JSON.stringify(repo)}, maxLanes: ${lanes + 5}, pty: { host: 'process', lingerMs: 60000 } });
    const spawnStarted = performance.now();
    for (let l = 0; l < ${lanes}; l++) {
      const lane = await rt.createLane();
      for (let p = 0; p < ${ptys}; p++) await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-c', ${JSON.stringify(counterScript(startFile))}] });
    }
    writeFileSync(${JSON.stringify(startFile)}, '');
    console.log(String(Math.round(performance.now() - spawnStarted)));
    setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const spawnMs = Number(await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d)))));
  await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_READY_MS));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, ADOPT_AFTER_KILL_MS));
  const started = nowNs();
  const rt = await createRuntime({ repo, maxLanes: lanes + 5, pty: { host: 'process' } });
  const readyMs = elapsedMs(started);
  const adopted = rt.lanes().flatMap((lane) => lane.ptys());
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, READOPT_DRAIN_TIMEOUT_MS);
  });
  const received = await Promise.all(adopted.map((pty) => readUntilDone(pty, deadline)));
  const drainedMs = elapsedMs(started);
  clearTimeout(timer);
  await rt.shutdown({ cleanupLanes: true });
  dispose();
  const expected = counterOutput();
  const incomplete = received.filter((r) => !r.complete).length;
  const notExactEnd = received.filter((r) => !expected.endsWith(r.text)).length;
  const firstLines = received.map((r) => firstLineOf(r.text));
  const midCount = firstLines.filter((n) => n !== undefined && n > 0 && n < COUNTER_LINES - 1).length;
  const counted = firstLines.filter((n): n is number => n !== undefined);
  return {
    bench: 'host.readopt_after_crash',
    lanes,
    ptysPerLane: ptys,
    deadRuntimeSpawnMs: spawnMs,
    adoptedPtys: adopted.length,
    reportedAdopted: rt.reconciliation.ptys.adopted,
    createRuntimeMs: round(readyMs, 1),
    lastLineOfEveryPtyMs: round(drainedMs, 1),
    ptysIncomplete: incomplete,
    ptysNotExactlyTheEnd: notExactEnd,
    ptysCountingAtTheCrash: midCount,
    firstLineReceivedMin: counted.length > 0 ? Math.min(...counted) : null,
    firstLineReceivedMax: counted.length > 0 ? Math.max(...counted) : null,
    goal: `every lane back with its PTYs live in < ${READOPT_GOAL_MS} ms, 0 bytes lost`,
    met:
      readyMs < READOPT_GOAL_MS &&
      adopted.length === lanes * ptys &&
      incomplete === 0 &&
      notExactEnd === 0 &&
      midCount === adopted.length,
  };
}
