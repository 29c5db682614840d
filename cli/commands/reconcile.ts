import type { Command } from 'commander';
import { type ReconciliationReport, reconcile } from '../../index.js';
import { CliExit, type CliIo, EXIT_FAILURE, fail } from '../io.js';

const EXAMPLES = `
Examples:
  lanevisor reconcile --dry-run          what a restart would stop, resume, salvage and remove
  lanevisor reconcile                    do it now (lanes that come back stay, ready)
  lanevisor reconcile --repo ~/src/app --json`;

interface ReconcileFlags {
  readonly repo?: string;
  readonly stateDir?: string;
  readonly worktreeRoot?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** `lanevisor reconcile`: what a runtime's startup does with what a dead runtime left, on its own. */
export function addReconcileCommand(program: Command, io: CliIo): void {
  program
    .command('reconcile')
    .description(
      'find what a killed lanevisor left (processes, worktrees, branches, records) and bring it back to a known state',
    )
    .option('--repo <dir>', 'any path inside the repository (default: the current directory)')
    .option('--state-dir <dir>', 'the state directory (default: <git common dir>/lanevisor)')
    .option('--worktree-root <dir>', 'where lane worktrees live (default: <repo>.lanes)')
    .option('--dry-run', 'change nothing; report what would be done')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: ReconcileFlags) => {
      const report = await reconcile({
        repo: flags.repo ?? io.cwd ?? process.cwd(),
        ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
        ...(flags.worktreeRoot ? { worktreeRoot: flags.worktreeRoot } : {}),
        dryRun: flags.dryRun === true,
      });
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
    `  ptys       lost ${ptys.lost}`,
    `  lanes      resumed ${lanes.resumed}, cleaned ${lanes.cleaned} (salvaged ${lanes.salvaged}), stalled ${lanes.stalled}`,
    `  worktrees  pruned ${worktrees.pruned}, removed ${worktrees.removed}, kept ${worktrees.kept}`,
    `  branches   removed ${branches.removed}, kept ${branches.kept}`,
    ...report.salvagedRefs.map((ref) => `  salvaged   ${ref}`),
    ...report.unreadableRecords.map((file) => `  unreadable ${file} (left as it is)`),
  ];
  return `${lines.join('\n')}\n`;
}
