import type { Command } from 'commander';
import { Option } from 'commander';
import type { CleanupReport, CommitResult, LaneDiff, LaneView, MergeResult } from '../../index.js';
import type { CliIo } from '../io.js';
import { table } from '../lane-view.js';
import { laneThrough, withAnyRuntime } from '../live-runtime.js';
import { addRepoOptions, type RepoFlags } from '../options.js';
import { describeCleanup } from './lanes.js';

/** `diff`, `commit`, `merge` and `conflicts`: a lane's work on its way back, through a live runtime or one of its own. */
export function addWorkflowCommands(program: Command, io: CliIo): void {
  addRepoOptions(program.command('diff'), { trace: false })
    .description(
      "a lane's changes against its base: committed, uncommitted and untracked (files, each marked committed or not, then the patch)",
    )
    .argument('<lane>', 'lane id or label')
    .option('--base <ref>', "compare with this commit instead of the lane's base")
    .option('--stat', 'only the files')
    .addHelpText('after', '\nExamples:\n  lanevisor diff fix-login\n  lanevisor diff fix-login --stat --base main')
    .action(async (name: string, flags: RepoFlags & { base?: string; stat?: boolean }) => {
      const { diff, notCommitted } = await withAnyRuntime(flags, io, async (call) => {
        const lane = await laneThrough(call, name);
        const against = (base?: string) =>
          call('lane.diff', { laneId: lane.id, ...(base ? { base } : {}) }) as Promise<LaneDiff>;
        // Against the lane's own tip, what is not committed yet (merge leaves it behind): a
        // person deciding to merge must see which of these changes it takes.
        const [all, uncommitted] = await Promise.all([
          against(flags.base),
          flags.json ? undefined : against(`refs/heads/${lane.branch}`),
        ]);
        return { diff: all, notCommitted: new Set(uncommitted?.files.map((file) => file.path)) };
      });
      if (flags.json) {
        io.stdout(`${JSON.stringify(diff)}\n`);
        return;
      }
      if (diff.files.length === 0) {
        io.stdout(`no changes against ${diff.base.slice(0, 12)}\n`);
        return;
      }
      const rows = diff.files.map((file) => [
        file.status,
        file.binary ? 'bin' : `+${file.additions}`,
        file.binary ? '' : `-${file.deletions}`,
        file.oldPath === undefined ? file.path : `${file.oldPath} -> ${file.path}`,
        notCommitted.has(file.path) ? 'not committed' : 'committed',
      ]);
      io.stdout(`${table(rows)}\n`);
      if (!flags.stat) io.stdout(`\n${diff.patch}`);
    });

  addRepoOptions(program.command('commit'), { trace: false })
    .description("commit everything in a lane's worktree (git add -A, then commit)")
    .argument('<lane>', 'lane id or label')
    .requiredOption('-m, --message <message>', 'the commit message')
    .addHelpText('after', '\nExamples:\n  lanevisor commit fix-login -m "fix the login redirect"')
    .action(async (name: string, flags: RepoFlags & { message: string }) => {
      const result = (await withAnyRuntime(flags, io, async (call) =>
        call('lane.commit', { laneId: (await laneThrough(call, name)).id, message: flags.message }),
      )) as CommitResult;
      if (flags.json) io.stdout(`${JSON.stringify(result)}\n`);
      else io.stdout(result.commit === null ? 'nothing to commit\n' : `committed ${result.commit}\n`);
    });

  addRepoOptions(program.command('merge'), { trace: false })
    .description("merge a lane's committed work into a branch; a conflict changes nothing")
    .argument('<lane>', 'lane id or label')
    .option('--into <branch>', 'the branch to merge into (default: the branch the lane started from)')
    .addOption(new Option('--squash', 'one commit with the whole change').conflicts('rebase'))
    .addOption(new Option('--rebase', "the lane's commits replayed on the branch").conflicts('squash'))
    .option('-m, --message <message>', 'the message of the merge (or squash) commit')
    .option('--clean', 'clean the lane up once it is merged')
    .addHelpText(
      'after',
      `
Examples:
  lanevisor merge fix-login
  lanevisor merge fix-login --into release --squash -m "fix the login redirect" --clean

Nothing is reset, deleted or forced: the branch moves by compare-and-swap, and a branch checked
out in a worktree moves only through it and only when it is clean. A conflict names the files
and exits 1 with everything as it was.`,
    )
    .action(
      async (
        name: string,
        flags: RepoFlags & { into?: string; squash?: boolean; rebase?: boolean; message?: string; clean?: boolean },
      ) => {
        const strategy = flags.squash ? 'squash' : flags.rebase ? 'rebase' : undefined;
        let lane: LaneView | undefined;
        const result = (await withAnyRuntime(flags, io, async (call) => {
          lane = await laneThrough(call, name);
          return call('lane.merge', {
            laneId: lane.id,
            ...(flags.into ? { into: flags.into } : {}),
            ...(strategy ? { strategy } : {}),
            ...(flags.message ? { message: flags.message } : {}),
            ...(flags.clean ? { clean: true } : {}),
          });
        })) as MergeResult & { cleanup?: CleanupReport; uncommitted?: boolean };
        if (flags.json) {
          io.stdout(`${JSON.stringify(result)}\n`);
          return;
        }
        io.stdout(`merged lane ${name} into ${result.into}: ${result.commit}\n`);
        if (result.cleanup) {
          io.stdout(describeCleanup(result.cleanup));
          if (result.cleanup.salvagedRef !== null)
            io.stdout(`${notMerged(name)}: it is in ${result.cleanup.salvagedRef}\n`);
          return;
        }
        if (result.uncommitted === true) {
          io.stdout(
            `${notMerged(name)}: it stays in ${lane?.worktreePath} (\`lanevisor commit ${name} -m MSG\`, then merge again, to include it)\n`,
          );
        }
      },
    );

  addRepoOptions(program.command('conflicts'), { trace: false })
    .description("which lanes' committed work would conflict with each other or with their base (nothing is touched)")
    .addHelpText('after', '\nExamples:\n  lanevisor conflicts\n  lanevisor conflicts --json')
    .action(async (flags: RepoFlags) => {
      const { lanes, conflicts } = await withAnyRuntime(flags, io, async (call) => ({
        lanes: (await call('lane.list')) as LaneView[],
        conflicts: (await call('runtime.conflicts')) as Array<{ lanes: [string, string]; files: string[] }>,
      }));
      if (flags.json) io.stdout(`${JSON.stringify(conflicts)}\n`);
      else io.stdout(conflictMatrixText(lanes, conflicts));
    });
}

/** Merge takes what is committed: a person who looked at `diff` (which shows all) must hear what stayed behind. */
function notMerged(name: string): string {
  return `note: lane ${name} has uncommitted or untracked work, which was not merged`;
}

/** The lanes against each other and their base: the count of conflicting files, `.` where none. */
export function conflictMatrixText(
  shown: readonly LaneView[],
  conflicts: readonly { lanes: readonly [string, string]; files: readonly string[] }[],
): string {
  if (shown.length === 0) return 'no lanes\n';
  const name = (id: string) => shown.find((lane) => lane.id === id)?.label ?? id;
  // In name order, whatever order the runtime holds them in.
  const lanes = [...shown].sort((x, y) => name(x.id).localeCompare(name(y.id)));
  const count = (a: string, b: string) =>
    conflicts.find(
      (entry) => (entry.lanes[0] === a && entry.lanes[1] === b) || (entry.lanes[0] === b && entry.lanes[1] === a),
    )?.files.length;
  const header = ['', ...lanes.map((lane) => name(lane.id)), 'base'];
  const rows = lanes.map((lane) => [
    name(lane.id),
    ...lanes.map((other) => (other.id === lane.id ? '-' : String(count(lane.id, other.id) ?? '.'))),
    String(count(lane.id, 'base') ?? '.'),
  ]);
  const list = conflicts.map(
    (entry) => `${entry.lanes.map((id) => (id === 'base' ? 'base' : name(id))).join(' x ')}: ${entry.files.join(', ')}`,
  );
  const summary = conflicts.length === 0 ? 'no conflicts' : list.join('\n');
  return `${table([header, ...rows])}\n\n${summary}\n`;
}
