import type { Command } from 'commander';
import { type CleanupReport, findLane, type LaneView, listLanes, listSalvaged, type SalvageRef } from '../../index.js';
import { type CliIo, UsageError } from '../io.js';
import { table } from '../lane-view.js';
import { liveLane, onLiveRuntime } from '../live-runtime.js';
import { addRepoOptions, ageOf, type RepoFlags, withRuntime } from '../options.js';
import { addExecCommand } from './exec.js';

/** `ls`, `exec` (exec.ts) and `clean`: the lanes of a repository from the shell. */
export function addLaneCommands(program: Command, io: CliIo): void {
  addRepoOptions(program.command('ls'), { trace: false })
    .description('list the lanes recorded for a repository (reads only; works while a runtime runs)')
    .option('--salvaged', 'list the salvage refs (uncommitted work of cleaned lanes) instead')
    .addHelpText(
      'after',
      '\nExamples:\n  lanevisor ls\n  lanevisor ls --repo ~/src/app --json\n  lanevisor ls --salvaged',
    )
    .action(async (flags: RepoFlags & { salvaged?: boolean }) => {
      if (flags.salvaged) {
        listSalvageRefs(await listSalvaged({ repo: flags.repo ?? io.cwd ?? process.cwd() }), flags.json === true, io);
        return;
      }
      const recorded = await listLanes({
        repo: flags.repo ?? io.cwd ?? process.cwd(),
        ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
      });
      // A live runtime knows each lane's state now and its PTYs; the records know the rest.
      const live = await onLiveRuntime(
        flags,
        io,
        async (runtime) => (await runtime.request('lane.list')) as LaneView[],
      );
      const lanes = recorded.map((lane) => {
        const view = live?.value.find((candidate) => candidate.id === lane.id);
        return view === undefined ? lane : { ...lane, state: view.state, ptys: view.ptys };
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

  addExecCommand(program, io);

  addRepoOptions(program.command('clean'))
    .description('clean lanes: stop their terminals, save uncommitted work to a ref, remove worktree and branch')
    .argument('[lanes...]', 'lane ids or labels')
    .option('--all', 'every lane of the repository')
    .option('--discard', 'drop uncommitted work and branches with commits instead of keeping them')
    .addHelpText('after', '\nExamples:\n  lanevisor clean fix-login\n  lanevisor clean --all --discard')
    .action(async (names: string[], flags: RepoFlags & { all?: boolean; discard?: boolean }) => {
      if (names.length > 0 && flags.all) throw new UsageError('name the lanes to clean, or pass --all, not both');
      if (names.length === 0 && !flags.all) throw new UsageError('name the lanes to clean, or pass --all');
      const cleanupOf = (laneId: string) => ({ laneId, discard: flags.discard === true });
      const live = await onLiveRuntime(flags, io, async (runtime) => {
        const lanes = flags.all
          ? ((await runtime.request('lane.list')) as LaneView[])
          : await Promise.all(names.map((name) => liveLane(runtime, name)));
        return Promise.all(
          lanes.map((lane) => runtime.request('lane.cleanup', cleanupOf(lane.id)) as Promise<CleanupReport>),
        );
      });
      const reports =
        live?.value ??
        (await withRuntime(flags, io, async (rt) => {
          const lanes = flags.all ? rt.lanes() : names.map((name) => findLane(rt.lanes(), name));
          return Promise.all(lanes.map((lane) => lane.cleanup({ discard: flags.discard === true })));
        }));
      if (flags.json) io.stdout(`${JSON.stringify(reports)}\n`);
      else io.stdout(reports.length === 0 ? 'no lanes to clean\n' : reports.map(describeCleanup).join(''));
    });
}

function listSalvageRefs(refs: readonly SalvageRef[], json: boolean, io: CliIo): void {
  if (json) io.stdout(`${JSON.stringify(refs)}\n`);
  else if (refs.length === 0) io.stdout('no salvage refs\n');
  else {
    const rows = refs.map((salvage) => [
      salvage.name,
      new Date(salvage.savedAt).toISOString().slice(0, 16).replace('T', ' '),
      ageOf(salvage.savedAt),
      String(salvage.files),
      salvage.ref,
    ]);
    io.stdout(`${table([['LANE', 'SAVED', 'AGE', 'FILES', 'REF'], ...rows])}\n`);
  }
}

export function describeCleanup(report: CleanupReport): string {
  const branch = report.branchKept
    ? `branch ${report.branch} kept (it has commits)`
    : `branch ${report.branch} removed`;
  const saved = report.salvagedRef ? `, uncommitted work saved to ${report.salvagedRef}` : '';
  return `cleaned ${report.laneId} in ${report.durationMs} ms: ${branch}${saved}\n`;
}
