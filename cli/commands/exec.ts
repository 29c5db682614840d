import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import { type ExecResult, findLane, MAX_TIMEOUT_MS } from '../../index.js';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_SIGNAL_BASE, EXIT_TIMEOUT } from '../io.js';
import { liveLane, onLiveRuntime } from '../live-runtime.js';
import { addRepoOptions, pagerDefaults, type RepoFlags, withRuntime } from '../options.js';
import { wholeNumber } from '../parse.js';
import { StopSignals } from '../stop-signals.js';

/** `lanevisor exec`: one command in a lane's worktree, as if run there from this shell. */
export function addExecCommand(program: Command, io: CliIo): void {
  addRepoOptions(program.command('exec'))
    .description("run a command in a lane's worktree; exits with the command's exit code")
    .argument('<lane>', 'lane id or label')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option(
      '--timeout <ms>',
      'stop the command (and everything it started) after this long; exit 124',
      wholeNumber('milliseconds', 1, MAX_TIMEOUT_MS),
    )
    .addHelpText('after', EXEC_HELP)
    .action(async (laneName: string, argv: string[], flags: RepoFlags & { timeout?: number }) => {
      const code = await execInLane(laneName, argv, flags, io);
      if (code !== EXIT_OK) throw new CliExit(code);
    });
}

const EXEC_HELP = `
Examples:
  lanevisor exec fix-login -- npm test
  lanevisor exec lane_0123 --json -- git status --short
  git diff | lanevisor exec fix-login -- git apply

stdin is passed to the command; its stdout and stderr stream as they come. The command runs with
PAGER=cat and GIT_PAGER=cat unless you set them. Exit: the command's own code, 124 when --timeout
stopped it, 128+N when signal N ended it; Ctrl-C stops it and exits 130.`;

/** The command in the lane, its input and output passed through; the exit code as a shell would give it. */
async function execInLane(
  laneName: string,
  argv: string[],
  flags: RepoFlags & { timeout?: number },
  io: CliIo,
): Promise<number> {
  const stop = new StopSignals(io, 'stopping the command');
  const abort = new AbortController();
  stop.onStop(() => abort.abort());
  let result: ExecResult;
  try {
    const live = await onLiveRuntime(flags, io, async (runtime) => {
      const lane = await liveLane(runtime, laneName);
      const payload = {
        laneId: lane.id,
        argv,
        env: pagerDefaults(io.env),
        ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout }),
      };
      return (await runtime.exec(payload, {
        signal: abort.signal,
        ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
        ...(flags.json ? {} : { onStdout: io.stdout, onStderr: io.stderr }),
      })) as ExecResult;
    });
    result =
      live?.value ??
      (await withRuntime(flags, io, (rt) =>
        findLane(rt.lanes(), laneName).exec(argv, {
          env: pagerDefaults(io.env),
          signal: abort.signal,
          ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout }),
          ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
          ...(flags.json ? {} : { onStdout: io.stdout, onStderr: io.stderr }),
        }),
      ));
  } finally {
    stop.dispose();
  }
  if (flags.json) io.stdout(`${JSON.stringify(result)}\n`);
  if (stop.exitCode !== undefined) return stop.exitCode;
  if (result.timedOut) {
    io.stderr(
      `lanevisor: the command ran out of time (${flags.timeout} ms) and was stopped, with everything it started\n`,
    );
    return EXIT_TIMEOUT;
  }
  if (result.exitCode === null) {
    const number = result.signal === null ? undefined : osConstants.signals[result.signal as NodeJS.Signals];
    io.stderr(`lanevisor: the command was ended by ${result.signal ?? 'a signal'}\n`);
    return number === undefined ? EXIT_FAILURE : EXIT_SIGNAL_BASE + number;
  }
  return result.exitCode;
}
