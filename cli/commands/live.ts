import { type Command, Option } from 'commander';
import { findLane, type LaneView, LanevisorError, listLanes, type PtyInfo, readLaneLog } from '../../index.js';
import { CliExit, type CliIo, EXIT_FAILURE } from '../io.js';
import { table } from '../lane-view.js';
import { liveLane, onLiveRuntime, requireLiveRuntime } from '../live-runtime.js';
import { addNatsOptions, natsTargetOf, remoteStatus } from '../nats-view.js';
import { addRepoOptions, ageOf, type RepoFlags } from '../options.js';

/** `status`, `spawn` and `logs`: what only a live runtime knows or can do, asked over its control socket. */
export function addLiveCommands(program: Command, io: CliIo): void {
  addNatsOptions(
    addRepoOptions(program.command('status'), { trace: false }),
    "every runtime announced on that NATS, grouped by host, instead of this repository's",
  )
    .description('the live runtime of a repository (id, pid, uptime, terminal host) and its lanes with their PTYs')
    .addHelpText(
      'after',
      '\nExamples:\n  lanevisor status\n  lanevisor status --repo ~/src/app --json\n  lanevisor status --nats nats://nats.internal:4222',
    )
    .action(async (flags: RepoFlags & { nats?: string; natsPrefix?: string }) => {
      const target = natsTargetOf(flags);
      if (target !== undefined) {
        const { runtimes, text } = await remoteStatus(target);
        io.stdout(flags.json ? `${JSON.stringify({ runtimes })}\n` : text);
        return;
      }
      const status = await onLiveRuntime(flags, io, async (runtime) => ({
        runtime: (await runtime.request('runtime.info')) as RuntimeInfo,
        lanes: (await runtime.request('lane.list')) as LaneView[],
      }));
      if (flags.json) {
        io.stdout(`${JSON.stringify(status?.value ?? { runtime: null, lanes: [] })}\n`);
        return;
      }
      if (status === undefined) {
        io.stdout('no runtime is running on this repository (lanevisor ls lists its recorded lanes)\n');
        return;
      }
      io.stdout(describeStatus(status.value.runtime, status.value.lanes));
    });

  addRepoOptions(program.command('spawn'), { trace: false })
    .description('start a PTY in a lane of the live runtime and print its id')
    .argument('<lane>', 'lane id or label')
    .argument('[command...]', "the command and its arguments (after --); default the user's shell")
    .option('--name <term>', 'the terminal type ($TERM) of the PTY')
    .addOption(
      new Option('--restart <type>', 'what the lane supervisor does when it ends').choices([
        'temporary',
        'transient',
        'permanent',
      ]),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  lanevisor spawn fix-login -- claude\n  lanevisor spawn lane_0123 --restart permanent --json -- npm run dev',
    )
    .action(async (laneName: string, argv: string[], flags: RepoFlags & { name?: string; restart?: string }) => {
      const pty = await requireLiveRuntime(flags, io, 'spawn', async (runtime) => {
        const lane = await liveLane(runtime, laneName);
        const [command, ...args] = argv;
        const options = {
          ...(command === undefined ? {} : { command, args }),
          ...(flags.name === undefined ? {} : { name: flags.name }),
          ...(flags.restart === undefined ? {} : { restart: flags.restart }),
        };
        return (await runtime.request('pty.spawn', { laneId: lane.id, options })) as PtyInfo;
      });
      io.stdout(flags.json ? `${JSON.stringify(pty)}\n` : `${pty.id}\n`);
    });

  addRepoOptions(program.command('logs'), { trace: false })
    .description("a PTY's output: what it retains, then (with --follow) live until it ends")
    .argument('<lane>', 'lane id or label')
    .option('--pty <id>', "one of the lane's PTYs (default: its first)")
    .option('-f, --follow', 'keep printing output as it comes, until the PTY ends')
    .addHelpText('after', '\nExamples:\n  lanevisor logs fix-login\n  lanevisor logs fix-login --pty pty_0123 --follow')
    .action(async (laneName: string, flags: RepoFlags & { pty?: string; follow?: boolean }) => {
      const write = (data: string) => io.stdout(flags.json ? `${JSON.stringify({ data })}\n` : data);
      const done = await onLiveRuntime(flags, io, async (runtime) => {
        const pty = chosenPty(await liveLane(runtime, laneName), flags.pty);
        if (flags.follow) return runtime.follow(pty.id, write);
        write(((await runtime.request('pty.scrollback', { ptyId: pty.id })) as { data: string }).data);
        return undefined;
      });
      if (done === undefined) {
        await printLaneLog(laneName, flags, io, write);
        return;
      }
      const exit = done.value;
      if (exit !== undefined && exit.exitCode !== 0) throw new CliExit(exit.exitCode ?? EXIT_FAILURE);
    });
}

/** With no runtime alive, what `lanevisor run` logged for the lane is all there is to show. */
async function printLaneLog(
  laneName: string,
  flags: RepoFlags & { pty?: string; follow?: boolean },
  io: CliIo,
  write: (data: string) => void,
): Promise<void> {
  const where = {
    repo: flags.repo ?? io.cwd ?? process.cwd(),
    ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
  };
  const log = await readLaneLog({ ...where, lane: laneName });
  // A name that is neither a log nor a lane is a typo, not a lane without a log.
  if (log === null) findLane(await listLanes(where), laneName);
  if (log === null || flags.follow || flags.pty !== undefined) {
    const has = log === null ? 'and there is no log of it' : 'so there is nothing to follow (its log is all there is)';
    throw new LanevisorError(
      'INVALID_STATE',
      `no lanevisor runtime is running on this repository, ${has}; start one with lanevisor serve, or in your orchestrator`,
    );
  }
  write(log.data);
}

interface RuntimeInfo {
  readonly id: string;
  readonly pid: number;
  readonly repo: string;
  readonly startedAt: number;
  readonly ptyHost: { readonly pid: number } | null;
}

function chosenPty(lane: LaneView, ptyId: string | undefined): PtyInfo {
  const pty = ptyId === undefined ? lane.ptys[0] : lane.ptys.find((candidate) => candidate.id === ptyId);
  if (pty !== undefined) return pty;
  const name = lane.label ?? lane.id;
  const has =
    lane.ptys.length === 0 ? 'it has none' : `it has ${lane.ptys.map((candidate) => candidate.id).join(', ')}`;
  throw new LanevisorError(
    'NOT_FOUND',
    `lane ${name} has ${ptyId === undefined ? 'no PTY' : `no PTY ${ptyId}`}; ${has}`,
  );
}

function describeStatus(runtime: RuntimeInfo, lanes: readonly LaneView[]): string {
  const host = runtime.ptyHost === null ? 'terminals inline' : `terminal host pid ${runtime.ptyHost.pid}`;
  const head = `runtime ${runtime.id}, pid ${runtime.pid}, up ${ageOf(runtime.startedAt)}, ${host}\n`;
  if (lanes.length === 0) return `${head}no lanes\n`;
  const rows = lanes.flatMap((lane) => [
    [lane.id, lane.label ?? '-', lane.state, lane.branch, '', '', ''],
    ...lane.ptys.map((pty) => ['', '', '', '', pty.id, `${pty.state} ${pty.activity ?? ''}`.trim(), String(pty.pid)]),
  ]);
  return `${head}${table([['LANE', 'LABEL', 'STATE', 'BRANCH', 'PTY', 'PTY STATE', 'PID'], ...rows])}\n`;
}
