import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorMessage } from '../index.js';

/** Where the command writes; injected so the command can be run and checked in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;

const HELP = `lanevisor: run many AI coding agents and humans side by side on one repository

Usage:
  lanevisor --help       show this help
  lanevisor --version    print the version

The lane commands (demo, run, ls, exec, clean, reconcile) arrive with the lanes and
command-line issues; today lanevisor is used as a library: import { createBus } from 'lanevisor'.
`;

/** Runs the command line and returns its exit code; errors are one line, no stack unless LANEVISOR_DEBUG=1. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return fail(io, error, EXIT_USAGE);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (values.help || positionals.length === 0) {
    io.stdout(HELP);
    return EXIT_OK;
  }
  return fail(io, new Error(`unknown command "${positionals[0]}"; see lanevisor --help`), EXIT_USAGE);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
    strict: true,
  });
}

function fail(io: CliIo, error: unknown, code: number): number {
  io.stderr(`lanevisor: ${describe(error)}\n`);
  if (io.env.LANEVISOR_DEBUG === '1' && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return code;
}

function describe(error: unknown): string {
  const message = errorMessage(error);
  return message.split('\n', 1)[0] ?? message;
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
