import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import {
  createBus,
  createCorrelationId,
  createRuntime,
  errorMessage,
  isLanevisorError,
  type Lane,
  LanevisorError,
  laneLogPath,
  type Runtime,
  validateLabel,
} from '../../index.js';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, exitCodeOf, fail, UsageError } from '../io.js';
import { addRepoOptions, pagerDefaults, type RepoFlags, runtimeOptionsOf, startInspection } from '../options.js';
import { collect, wholeNumber } from '../parse.js';
import { type LaneSlot, type RunMode, RunView } from '../run-view.js';
import { StopSignals } from '../stop-signals.js';

interface RunFlags extends RepoFlags {
  readonly lanes?: number;
  readonly label: string[];
  readonly base?: string;
  readonly template?: string;
  /** False with --no-setup. */
  readonly setup?: boolean;
  readonly keep?: boolean;
}

const EXAMPLES = `
Examples:
  lanevisor run --lanes 3 -- npm test
  lanevisor run --label fix-a --label fix-b --base main -- bash -c 'make check'
  lanevisor run --keep --label spike -- ./scripts/try.sh

The command runs in a real terminal with PAGER=cat and GIT_PAGER=cat (unless you set them), so
git log and friends print instead of waiting in a pager. A lane whose command waits for input
shows "waiting for input" in the table.`;

/** `lanevisor run`: lanes, the command in a terminal in each, a live view, logs, a summary, cleanup. */
export function addRunCommand(program: Command, io: CliIo): void {
  addRepoOptions(program.command('run'))
    .description("create lanes and run a command in a real terminal in each lane's worktree")
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--lanes <n>', 'how many lanes (default 1)', wholeNumber('lanes', 1))
    .option('--label <label>', 'a lane label; repeat it for more lanes', collect, [])
    .option('--base <ref>', "the commit the lanes start from (default: lanevisor.json's baseRef, else HEAD)")
    .option('--template <name>', "one of lanevisor.json's templates (its setup, sparse, env and baseRef)")
    .option('--no-setup', "make the lanes without running lanevisor.json's setup")
    .option('--keep', 'keep the lanes (worktree, branch) after the command ends, and after Ctrl-C')
    .addHelpText('after', EXAMPLES)
    .action(async (argv: string[], flags: RunFlags) => {
      const code = await runLanes(argv, flags, io);
      if (code !== EXIT_OK) throw new CliExit(code);
    });
}

/** One label per lane asked for (undefined for unlabelled ones); usage errors for what cannot be asked. */
function labelsOf(flags: RunFlags): Array<string | undefined> {
  if (flags.label.length > 0 && flags.lanes !== undefined) {
    throw new UsageError('give --lanes N or one --label per lane, not both');
  }
  for (const [i, label] of flags.label.entries()) {
    validateLabel(label);
    if (flags.label.indexOf(label) !== i) {
      throw new UsageError(`--label ${label} is given twice; labels name one lane each`);
    }
  }
  return flags.label.length > 0 ? flags.label : Array.from({ length: flags.lanes ?? 1 }, () => undefined);
}

async function runLanes(argv: string[], flags: RunFlags, io: CliIo): Promise<number> {
  // From the first moment: Ctrl-C while the runtime starts or lanes are made is honoured too.
  const stop = new StopSignals(
    io,
    flags.keep ? 'stopping the commands, keeping the lanes' : 'stopping and cleaning up',
  );
  // Listening until the runtime has shut down: a Ctrl-C or a closed output then must not end the
  // process half-way (a second Ctrl-C still leaves at once), and is the exit code all the same.
  try {
    const code = await runLanesUntilShutDown(argv, flags, io, stop);
    return stop.exitCode ?? code;
  } finally {
    stop.dispose();
  }
}

async function runLanesUntilShutDown(argv: string[], flags: RunFlags, io: CliIo, stop: StopSignals): Promise<number> {
  const mode: RunMode = flags.json ? 'json' : io.isTTY ? 'live' : 'lines';
  const bus = createBus({ queueLimit: 1_000_000 });
  const view = new RunView(mode, io, bus);
  const slots: LaneSlot[] = [];
  let inspection: Awaited<ReturnType<typeof startInspection>> | undefined;
  let rt: Runtime | undefined;
  try {
    const labels = labelsOf(flags);
    inspection = await startInspection(flags, io);
    rt = await createRuntime({ ...runtimeOptionsOf(flags, io), ...inspection.options, bus });
    const runtime = rt;
    if (stop.exitCode !== undefined) return finish(view, slots, stop.exitCode);
    assertCapacity(runtime, labels.length);
    slots.push(
      ...labels.map((label, i) => ({
        name: label ?? `#${i + 1}`,
        label,
        correlationId: createCorrelationId(),
        lastLine: '',
        startedAt: Date.now(),
        salvagedRef: null,
        kept: flags.keep === true,
      })),
    );
    stop.onStop(() => {
      for (const lane of runtime.lanes()) for (const pty of lane.ptys()) void pty.terminate().catch(() => undefined);
    });
    view.show(slots, (laneId) => runtime.getLane(laneId));
    // Each lane on its own: its command starts as soon as it is ready, its cleanup as soon as it ended.
    await Promise.all(slots.map((slot) => runSlot(runtime, slot, argv, flags, stop, view, io)));
    return finish(view, slots, stop.exitCode ?? exitCodeOfRun(slots));
  } catch (error) {
    if (mode !== 'json') throw error;
    const code = exitCodeOf(error);
    fail(io, error, code, true);
    view.finish(slots, { exitCode: code });
    throw new CliExit(code);
  } finally {
    view.close();
    await rt?.shutdown();
    await inspection?.close();
  }
}

function assertCapacity(rt: Runtime, count: number): void {
  const free = rt.limits.maxLanes - rt.lanes().length;
  if (count > free) {
    throw new LanevisorError(
      'CAPACITY',
      `${count} lanes asked for, but this runtime holds at most ${rt.limits.maxLanes} (maxLanes) and ${rt.lanes().length} are open; nothing was created`,
    );
  }
}

/** Prints the summary; a lane that failed is also named in one line on stderr. Returns `code`. */
function finish(view: RunView, slots: readonly LaneSlot[], code: number): number {
  view.finish(slots, { exitCode: code });
  return code;
}

/** 0 when every command exited 0; 127 when every failure was a command that could not start; else 1. */
function exitCodeOfRun(slots: readonly LaneSlot[]): number {
  const failed = slots.filter((slot) => slot.exit?.exitCode !== 0);
  if (failed.length === 0) return EXIT_OK;
  return failed.every((slot) => slot.error?.code === 'SPAWN_ERROR') ? EXIT_NOT_FOUND : EXIT_FAILURE;
}

/** One lane: made, its command run to its end (unless stopped first), then cleaned (unless kept). */
async function runSlot(
  rt: Runtime,
  slot: LaneSlot,
  argv: string[],
  flags: RunFlags,
  stop: StopSignals,
  view: RunView,
  io: CliIo,
): Promise<void> {
  let lane: Lane;
  try {
    const options = {
      ...(slot.label ? { label: slot.label } : {}),
      ...(flags.base === undefined ? {} : { baseRef: flags.base }),
      ...(flags.template === undefined ? {} : { template: flags.template }),
      ...(flags.setup === false ? { setup: false as const } : {}),
    };
    lane = await rt.bus.withCorrelation(slot.correlationId, () => rt.createLane(options));
    slot.lane = lane;
  } catch (error) {
    slot.endedAt = Date.now();
    if (stop.signal !== undefined) slot.interrupted = true;
    else {
      slot.error = failureOf(error);
      io.stderr(`lanevisor: lane ${slot.name} could not be made: ${slot.error.message}\n`);
    }
    return;
  }
  if (stop.signal === undefined) await runInLane(rt, lane, slot, argv, view, io);
  else slot.interrupted = true;
  slot.endedAt ??= Date.now();
  if (flags.keep) return;
  try {
    const report = await lane.cleanup();
    slot.salvagedRef = report.salvagedRef;
    slot.kept = report.branchKept;
  } catch (error) {
    slot.kept = true;
    io.stderr(`lanevisor: lane ${slot.name} was not cleaned up: ${errorMessage(error)}\n`);
  }
}

/** The command in a PTY in the lane; its whole output goes to `<stateDir>/logs/<laneId>.log`. */
async function runInLane(rt: Runtime, lane: Lane, slot: LaneSlot, argv: string[], view: RunView, io: CliIo) {
  slot.log = laneLogPath(rt.stateDir, lane.id);
  mkdirSync(dirname(slot.log), { recursive: true, mode: 0o700 });
  const log = createWriteStream(slot.log, { mode: 0o600 });
  const lines = view.outputLines(slot);
  const [command, ...args] = argv as [string, ...string[]];
  try {
    slot.pty = await lane.spawnPty({ command, args, env: pagerDefaults(io.env) });
    // From the oldest retained byte, so nothing printed before this loop started is missed.
    for await (const chunk of slot.pty.output()) {
      log.write(chunk);
      lines.push(chunk);
    }
    slot.exit = await slot.pty.exited;
  } catch (error) {
    slot.error = failureOf(error);
    log.write(`lanevisor: ${slot.error.message}\n`);
    io.stderr(`lanevisor: lane ${slot.name}: ${slot.error.message}\n`);
  } finally {
    lines.end();
    slot.endedAt = Date.now();
    await new Promise((resolve) => log.end(resolve));
  }
}

function failureOf(error: unknown): { code: string; message: string } {
  return { code: isLanevisorError(error) ? error.code : 'INTERNAL_ERROR', message: errorMessage(error) };
}
