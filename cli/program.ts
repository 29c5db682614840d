import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { addAttachCommand } from './commands/attach.js';
import { addDemoCommand } from './commands/demo.js';
import { addLaneCommands } from './commands/lanes.js';
import { addLiveCommands } from './commands/live.js';
import { addPruneCommand } from './commands/prune.js';
import { addReconcileCommand } from './commands/reconcile.js';
import { addRunCommand } from './commands/run.js';
import { addServeCommand } from './commands/serve.js';
import { addWorkflowCommands } from './commands/workflow.js';
import { CliExit, type CliIo, EXIT_OK, EXIT_USAGE, exitCodeOf, fail, UsageError } from './io.js';

export { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './io.js';

const DESCRIPTION = 'run many AI coding agents and humans side by side on one repository';

/** Runs the command line and returns its exit code; errors are one line, no stack unless LANEVISOR_DEBUG=1. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('lanevisor')
    .description(DESCRIPTION)
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: () => undefined, outputError: () => undefined });
  addDemoCommand(program, io);
  addRunCommand(program, io);
  addLaneCommands(program, io);
  addLiveCommands(program, io);
  addWorkflowCommands(program, io);
  addAttachCommand(program, io);
  addServeCommand(program, io);
  addReconcileCommand(program, io);
  addPruneCommand(program, io);
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    return EXIT_OK;
  }
  for (const command of program.commands) {
    command
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: () => undefined, outputError: () => undefined });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CliExit) return error.exitCode;
    const json = wantsJson(argv);
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT_OK;
      const message = error.message.replace(/^error: /, '').replace(/ is invalid\. /, ' is invalid: ');
      const known = program.commands.some((command) => command.name() === argv[0]);
      return fail(
        io,
        new UsageError(`${message}; see lanevisor ${known ? `${argv[0]} ` : ''}--help`),
        EXIT_USAGE,
        json,
      );
    }
    return fail(io, error, exitCodeOf(error), json);
  }
}

/** `--json` among the command's own arguments (not the command it runs after `--`). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}
function packageVersion(): string {
  // cli/program.ts runs compiled as dist/cli/program.js or from source under vitest.
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'lanevisor' && pkg.version) return pkg.version;
    } catch {
      // Try the next location.
    }
  }
  return 'unknown';
}
