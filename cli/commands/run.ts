import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type CleanupReport, createBus, createRuntime, type Lane, LanevisorError, type Runtime } from '../../index.js';
import { CliExit, type CliIo } from '../io.js';
import {
  describeEvent,
  type LaneRow,
  LIVE_REFRESH_MS,
  LineSplitter,
  LiveBlock,
  laneName,
  noteLaneName,
  statusTable,
} from '../lane-view.js';
import { addRepoOptions, type RepoFlags, runtimeOptionsOf, startInspection, table } from '../options.js';

const EXIT_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

interface RunFlags extends RepoFlags {
  readonly lanes?: number;
  readonly label: string[];
  readonly base?: string;
  readonly keep?: boolean;
}

interface LaneOutcome {
  readonly name: string;
  readonly laneId: string;
  readonly branch: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  readonly log: string;
  salvagedRef: string | null;
  kept: boolean;
}

const EXAMPLES = `
Examples:
  lanevisor run --lanes 3 -- npm test
  lanevisor run --label fix-a --label fix-b --base main -- bash -c 'make check'
  lanevisor run --keep --label spike -- ./scripts/try.sh`;

/** `lanevisor run`: lanes, the command in a terminal in each, a live view, logs, a summary, cleanup. */
export function addRunCommand(program: Command, io: CliIo): void {
  addRepoOptions(program.command('run'))
    .description("create lanes and run a command in a real terminal in each lane's worktree")
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--lanes <n>', 'how many lanes (default 1)', (value) => Number.parseInt(value, 10))
    .option('--label <label>', 'a lane label; repeat it for more lanes', (value, all: string[]) => [...all, value], [])
    .option('--base <ref>', 'the commit the lanes start from', 'HEAD')
    .option('--keep', 'keep the lanes (worktree, branch) after the command ends, and after Ctrl-C')
    .addHelpText('after', EXAMPLES)
    .action(async (argv: string[], flags: RunFlags) => {
      const code = await runLanes(argv, flags, io);
      if (code !== 0) throw new CliExit(code);
    });
}

async function runLanes(argv: string[], flags: RunFlags, io: CliIo): Promise<number> {
  const count = flags.label.length > 0 ? flags.label.length : (flags.lanes ?? 1);
  if ((flags.label.length > 0 && flags.lanes !== undefined) || !Number.isInteger(count) || count < 1) {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      'give --lanes N (a positive number) or one --label per lane, not both',
    );
  }
  const bus = createBus({ queueLimit: 1_000_000 });
  const names = new Map<string, string>();
  const mode = flags.json ? 'json' : io.isTTY ? 'live' : 'lines';
  bus.subscribe(
    '**',
    (event) => {
      noteLaneName(names, event);
      if (mode === 'json') io.stdout(`${JSON.stringify(event)}\n`);
      else if (mode === 'lines' && event.topic !== 'pty.output') io.stdout(`${describeEvent(event, names)}\n`);
    },
    { queueLimit: 1_000_000 },
  );
  const inspection = await startInspection(flags, io);
  const rt = await createRuntime({
    ...runtimeOptionsOf(flags, io),
    ...inspection.options,
    bus,
    maxLanes: Math.max(64, count),
  }).catch(async (error: unknown) => {
    await inspection.close();
    throw error;
  });
  let interrupted: keyof typeof EXIT_SIGNAL | undefined;
  const onSignal = (signal: keyof typeof EXIT_SIGNAL) => {
    interrupted ??= signal;
    for (const lane of rt.lanes()) for (const pty of lane.ptys()) void pty.terminate().catch(() => undefined);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const rows: LaneRow[] = [];
  const live = mode === 'live' ? new LiveBlock(io.stdout) : undefined;
  const timer = live ? setInterval(() => live.draw(statusTable(rows)), LIVE_REFRESH_MS) : undefined;
  try {
    const created = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        rt.createLane({ ...(flags.label[i] ? { label: flags.label[i] } : {}), baseRef: flags.base ?? 'HEAD' }),
      ),
    );
    const lanes = created.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = created.find((result) => result.status === 'rejected');
    if (failure) {
      await Promise.allSettled(lanes.map((lane) => lane.cleanup()));
      throw (failure as PromiseRejectedResult).reason;
    }
    const outcomes = interrupted
      ? []
      : await Promise.all(lanes.map((lane) => runInLane(rt, lane, argv, rows, mode, io)));
    if (timer) clearInterval(timer);
    live?.draw(statusTable(rows));
    await finish(lanes, outcomes, flags.keep === true);
    printSummary(outcomes, mode, io);
    if (interrupted) return EXIT_SIGNAL[interrupted];
    return outcomes.every((outcome) => outcome.exitCode === 0) ? 0 : 1;
  } finally {
    if (timer) clearInterval(timer);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await rt.shutdown();
    await inspection.close();
  }
}

/** The command in a PTY in the lane; its whole output goes to `<stateDir>/logs/<laneId>.log`. */
async function runInLane(
  rt: Runtime,
  lane: Lane,
  argv: string[],
  rows: LaneRow[],
  mode: 'json' | 'live' | 'lines',
  io: CliIo,
): Promise<LaneOutcome> {
  const logs = join(rt.stateDir, 'logs');
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  const logPath = join(logs, `${lane.id}.log`);
  const log = createWriteStream(logPath, { mode: 0o600 });
  const row: LaneRow = { lane, lastLine: '', startedAt: Date.now() };
  rows.push(row);
  const name = laneName(lane);
  const lines = new LineSplitter((line) => {
    if (line.trim() !== '') row.lastLine = line;
    if (mode === 'lines') io.stdout(`[${name}] ${line}\n`);
  });
  const [command, ...args] = argv as [string, ...string[]];
  const pty = await lane.spawnPty({ command, args });
  // From the oldest retained byte, so nothing printed before this loop started is missed.
  for await (const chunk of pty.output()) {
    log.write(chunk);
    lines.push(chunk);
  }
  const exit = await pty.exited;
  lines.end();
  row.endedAt = Date.now();
  await new Promise((resolve) => log.end(resolve));
  return {
    name,
    laneId: lane.id,
    branch: lane.branch,
    exitCode: exit.exitCode,
    signal: exit.signal,
    durationMs: row.endedAt - row.startedAt,
    log: logPath,
    salvagedRef: null,
    kept: true,
  };
}

/** Cleans every lane (unless kept); the outcomes learn their salvage refs. */
async function finish(lanes: readonly Lane[], outcomes: LaneOutcome[], keep: boolean): Promise<void> {
  if (keep) return;
  const reports = await Promise.allSettled(lanes.map((lane) => lane.cleanup()));
  reports.forEach((result, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined || result.status !== 'fulfilled') return;
    const report: CleanupReport = result.value;
    outcome.salvagedRef = report.salvagedRef;
    outcome.kept = report.branchKept;
  });
}

function printSummary(outcomes: readonly LaneOutcome[], mode: 'json' | 'live' | 'lines', io: CliIo): void {
  if (mode === 'json') {
    io.stdout(`${JSON.stringify({ type: 'summary', lanes: outcomes })}\n`);
    return;
  }
  if (outcomes.length === 0) return;
  const rows = outcomes.map((o) => [
    o.name,
    o.exitCode === null ? (o.signal ?? '?') : String(o.exitCode),
    `${(o.durationMs / 1000).toFixed(1)} s`,
    o.kept ? o.branch : `${o.branch} (removed)`,
    o.log,
    o.salvagedRef ?? '-',
  ]);
  io.stdout(`${table([['LANE', 'EXIT', 'DURATION', 'BRANCH', 'LOG', 'SALVAGED'], ...rows])}\n`);
}
