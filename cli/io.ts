import { errorMessage } from '../index.js';

/** Where the command writes; injected so the command can be run and checked in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** The directory `--repo` defaults to. */
  readonly cwd?: string;
  /** stdout is a terminal: live views redraw in place. */
  readonly isTTY?: boolean;
}

export const EXIT_OK = 0;
/** The command ran and failed (a lock held, a cleanup that stalled). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the command already explained: its exit code, with nothing more to print. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** One line on stderr (the stack too with LANEVISOR_DEBUG=1); returns `code`. */
export function fail(io: CliIo, error: unknown, code: number): number {
  io.stderr(`lanevisor: ${firstLine(errorMessage(error))}\n`);
  if (io.env.LANEVISOR_DEBUG === '1' && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return code;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
