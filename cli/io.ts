import { errorMessage, isLanevisorError, LanevisorError } from '../index.js';

/** Where the command writes; injected so the command can be run and checked in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** The directory `--repo` defaults to. */
  readonly cwd?: string;
  /** stdout is a terminal: live views redraw in place. */
  readonly isTTY?: boolean;
  /** What `exec` forwards to its command (the process's stdin). */
  readonly stdin?: NodeJS.ReadableStream;
  /** The terminal's size now, when stdout is one. */
  readonly terminalSize?: () => { readonly columns: number; readonly rows: number };
  /** Calls `listener` when the terminal is resized (SIGWINCH); returns the undo. */
  readonly onResize?: (listener: () => void) => () => void;
  /**
   * Calls `listener` once stdout's or stderr's reader has gone (`| head` has what it wanted);
   * returns the undo. Without a listener the command ends at once (process-io.ts).
   */
  readonly onOutputClosed?: (listener: () => void) => () => void;
}

export const EXIT_OK = 0;
/** The command ran and failed (a lock held, a cleanup that stalled). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** A command that ran out of time, as `timeout(1)` exits. */
export const EXIT_TIMEOUT = 124;
/** A command that could not be found, as a shell exits. */
export const EXIT_NOT_FOUND = 127;
/** 128 + the signal's number, as a shell reports a command killed by a signal. */
export const EXIT_SIGNAL_BASE = 128;

/** A failure the command already explained: its exit code, with nothing more to print. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** A command line that asks for something impossible (a flag without its partner, a bad value): exit 2. */
export class UsageError extends LanevisorError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** The exit code of a failure: 2 for what the command line got wrong, 1 for the rest. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliExit) return error.exitCode;
  return isLanevisorError(error, 'INVALID_ARGUMENT') ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * One line on stderr (the stack too with LANEVISOR_DEBUG=1) and, with `--json`, the failure as one
 * JSON object on stdout: `{"error":{"code","message"}}`. Returns `code`.
 */
export function fail(io: CliIo, error: unknown, code: number, json = false): number {
  const message = firstLine(errorMessage(error));
  io.stderr(`lanevisor: ${message}\n`);
  if (io.env.LANEVISOR_DEBUG === '1' && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  if (json) {
    const errorCode = error instanceof LanevisorError ? error.code : 'INTERNAL_ERROR';
    io.stdout(`${JSON.stringify({ error: { code: errorCode, message } })}\n`);
  }
  return code;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
