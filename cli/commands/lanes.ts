import type { Command } from 'commander';
import { type CleanupReport, LanevisorError, listLanes } from '../../index.js';
import { CliExit, type CliIo, EXIT_FAILURE } from '../io.js';
import { addRepoOptions, ageOf, findLane, type RepoFlags, table, withRuntime } from '../options.js';

/** `ls`, `exec` and `clean`: the lanes of a repository from the shell. */
export function addLaneCommands(program: Command, io: CliIo): void {
  addRepoOptions(program.command('ls'), { trace: false })
    .description('list the lanes recorded for a repository (reads only; works while a runtime runs)')
    .addHelpText('after', '\nExamples:\n  lanevisor ls\n  lanevisor ls --repo ~/src/app --json')
    .action(async (flags: RepoFlags) => {
      const lanes = await listLanes({
        repo: flags.repo ?? io.cwd ?? process.cwd(),
        ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
      });
      if (flags.json) {
        io.stdout(`${JSON.stringify(lanes)}\n`);
        return;
      }
      if (lanes.length === 0) {
        io.stdout('no lanes\n');
        return;
      }
      const rows = lanes.map((lane) => [
        lane.id,
        lane.label ?? '-',
        lane.state,
        lane.branch,
        ageOf(lane.createdAt),
        lane.missing ? 'missing' : lane.dirty ? 'dirty' : 'clean',
        lane.worktreePath,
      ]);
      io.stdout(`${table([['ID', 'LABEL', 'STATE', 'BRANCH', 'AGE', 'WORK', 'WORKTREE'], ...rows])}\n`);
    });

  addRepoOptions(program.command('exec'))
    .description("run a command in a lane's worktree; exits with the command's exit code")
    .argument('<lane>', 'lane id or label')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--timeout <ms>', 'kill the command (and everything it started) after this long', Number)
    .addHelpText(
      'after',
      '\nExamples:\n  lanevisor exec fix-login -- npm test\n  lanevisor exec lane_0123 --json -- git status --short',
    )
    .action(async (laneName: string, argv: string[], flags: RepoFlags & { timeout?: number }) => {
      const result = await withRuntime(flags, io, (rt) =>
        findLane(rt, laneName).exec(argv, flags.timeout === undefined ? {} : { timeoutMs: flags.timeout }),
      );
      if (flags.json) io.stdout(`${JSON.stringify(result)}\n`);
      else {
        io.stdout(result.stdout.endsWith('\n') || result.stdout === '' ? result.stdout : `${result.stdout}\n`);
        if (result.stderr !== '') io.stderr(result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
      }
      const code = result.exitCode ?? EXIT_FAILURE;
      if (code !== 0) throw new CliExit(code);
    });

  addRepoOptions(program.command('clean'))
    .description('clean lanes: stop their terminals, save uncommitted work to a ref, remove worktree and branch')
    .argument('[lanes...]', 'lane ids or labels')
    .option('--all', 'every lane of the repository')
    .option('--discard', 'drop uncommitted work and branches with commits instead of keeping them')
    .addHelpText('after', '\nExamples:\n  lanevisor clean fix-login\n  lanevisor clean --all --discard')
    .action(async (names: string[], flags: RepoFlags & { all?: boolean; discard?: boolean }) => {
      if ((names.length === 0) === !flags.all) {
        throw new LanevisorError('INVALID_ARGUMENT', 'name the lanes to clean, or pass --all (not both)');
      }
      const reports = await withRuntime(flags, io, async (rt) => {
        const lanes = flags.all ? rt.lanes() : names.map((name) => findLane(rt, name));
        return Promise.all(lanes.map((lane) => lane.cleanup({ discard: flags.discard === true })));
      });
      io.stdout(flags.json ? `${JSON.stringify(reports)}\n` : reports.map(describeCleanup).join(''));
    });
}

function describeCleanup(report: CleanupReport): string {
  const branch = report.branchKept
    ? `branch ${report.branch} kept (it has commits)`
    : `branch ${report.branch} removed`;
  const saved = report.salvagedRef ? `, uncommitted work saved to ${report.salvagedRef}` : '';
  return `cleaned ${report.laneId} in ${report.durationMs} ms: ${branch}${saved}\n`;
}
