import type { Command } from 'commander';
import { type PruneReport, prune } from '../../index.js';
import type { CliIo } from '../io.js';
import { addRepoOptions, ageOf, type RepoFlags } from '../options.js';
import { age } from '../parse.js';

const EXAMPLES = `
Examples:
  lanevisor prune --older-than 14d --dry-run   what would go
  lanevisor prune --older-than 14d             remove lane logs and salvage refs older than two weeks
  lanevisor ls --salvaged                      the salvage refs there are

A salvage ref holds the uncommitted work of a lane that was cleaned: pruning it drops that work.`;

/** `lanevisor prune`: lane logs and salvage refs past an age, removed only when asked. */
export function addPruneCommand(program: Command, io: CliIo): void {
  addRepoOptions(program.command('prune'), { trace: false })
    .description('remove lane logs and salvage refs older than an age (nothing is ever pruned unasked)')
    .requiredOption('--older-than <age>', 'what is older than this goes: 30m, 12h, 7d, 2w', age)
    .option('--dry-run', 'change nothing; list what would be removed')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: RepoFlags & { olderThan: number; dryRun?: boolean }) => {
      const report = await prune({
        repo: flags.repo ?? io.cwd ?? process.cwd(),
        ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
        olderThanMs: flags.olderThan,
        dryRun: flags.dryRun === true,
      });
      io.stdout(flags.json ? `${JSON.stringify(report)}\n` : describePrune(report));
    });
}

function describePrune(report: PruneReport): string {
  const verb = report.dryRun ? 'would remove' : 'removed';
  const lines = [
    ...report.logs.map((log) => `${verb} log ${log.path} (${log.bytes} bytes, ${ageOf(log.modifiedAt)} old)`),
    ...report.salvagedRefs.map(
      (salvage) => `${verb} ${salvage.ref} (${salvage.files} files, saved ${ageOf(salvage.savedAt)} ago)`,
    ),
  ];
  return lines.length === 0 ? 'nothing to prune\n' : `${lines.join('\n')}\n`;
}
