import type { Command } from 'commander';
import { type ReconciliationReport, reconcile } from '../../index.js';
import { CliExit, type CliIo, EXIT_FAILURE, fail } from '../io.js';
import { addRepoOptions, type RepoFlags, runtimeOptionsOf } from '../options.js';

const EXAMPLES = `
Examples:
  lanevisor reconcile --dry-run          what a restart would stop, resume, salvage and remove
  lanevisor reconcile                    do it now (lanes that come back stay, ready)
  lanevisor reconcile --repo ~/src/app --json`;

interface ReconcileFlags extends RepoFlags {
  readonly dryRun?: boolean;
}

/** `lanevisor reconcile`: what a runtime's startup does with what a dead runtime left, on its own. */
export function addReconcileCommand(program: Command, io: CliIo): void {
  addRepoOptions(program.command('reconcile'), { trace: false })
    .description(
      'find what a killed lanevisor left (processes, worktrees, branches, records) and bring it back to a known state',
    )
    .option('--dry-run', 'change nothing; report what would be done')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: ReconcileFlags) => {
      const report = await reconcile({ ...runtimeOptionsOf(flags, io), dryRun: flags.dryRun === true });
      io.stdout(flags.json ? `${JSON.stringify(report)}\n` : describeReport(report));
      const unfinished = report.lanes.stalled + report.processes.survived;
      if (unfinished > 0) {
        fail(
          io,
          new Error(
            `${report.lanes.stalled} lane cleanups stalled and ${report.processes.survived} processes would not stop; run reconcile again or look at them`,
          ),
          EXIT_FAILURE,
        );
        throw new CliExit(EXIT_FAILURE);
      }
    });
}

export function describeReport(report: ReconciliationReport): string {
  const { processes, ptys, lanes, worktrees, branches } = report;
  const lines = [
    report.dryRun
      ? `dry run (nothing changed), looked in ${report.durationMs} ms; a reconcile would do:`
      : `reconciled in ${report.durationMs} ms:`,
    `  processes  found ${processes.found}, stopped ${processes.killed}, not ours (left alone) ${processes.notOurs}, would not stop ${processes.survived}`,
    `  ptys       lost ${ptys.lost}, adopted ${ptys.adopted} (kept running by the terminal host)`,
    `  lanes      resumed ${lanes.resumed}, cleaned ${lanes.cleaned} (salvaged ${lanes.salvaged}), stalled ${lanes.stalled}`,
    `  worktrees  pruned ${worktrees.pruned}, removed ${worktrees.removed}, kept ${worktrees.kept}`,
    `  branches   removed ${branches.removed}, kept ${branches.kept}`,
    ...namedLines(report),
    ...report.salvagedRefs.map((ref) => `  salvaged   ${ref}`),
    ...report.unreadableRecords.map((file) => `  unreadable ${file} (left as it is)`),
  ];
  return `${lines.join('\n')}\n`;
}

/** One line per thing the counts count, in the future tense for a dry run. */
function namedLines(report: ReconciliationReport): string[] {
  const { processes, lanes, worktrees, branches } = report.details;
  const verb = (now: string, done: string) => (report.dryRun ? now : done).padEnd(10);
  return [
    ...processes.map((p) => `  ${verb('stop', 'stopped')} pid ${p.pid} (${p.command})`),
    ...lanes.resumed.map((id) => `  ${verb('resume', 'resumed')} lane ${id}`),
    ...lanes.cleaned.map((id) => `  ${verb('clean', 'cleaned')} lane ${id}`),
    ...worktrees.pruned.map((path) => `  ${verb('prune', 'pruned')} worktree ${path}`),
    ...worktrees.removed.map((path) => `  ${verb('remove', 'removed')} worktree ${path}`),
    ...worktrees.kept.map((path) => `  ${verb('keep', 'kept')} worktree ${path} (git has it; no lane record)`),
    ...branches.removed.map((branch) => `  ${verb('remove', 'removed')} branch ${branch}`),
    ...branches.kept.map(
      ({ branch, reason }) => `  ${verb('keep', 'kept')} branch ${branch} (${reason.replace('_', ' ')})`,
    ),
  ];
}
