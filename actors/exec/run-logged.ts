import { spawn } from 'node:child_process';
import { close, fstatSync, openSync, read, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { errorMessage, LanevisorError } from '../../bus/errors.js';
import { stopProcessTrees } from '../process/tree-signaller.js';

/** Output of the command that its result carries back (the rest stays in the log). */
export const LOGGED_TAIL_BYTES = 16 * 1024;
const SHELL = '/bin/sh';

/**
 * A shell command whose output goes straight into a log file (not through a pipe), in its own
 * session, tagged: it is done when its shell exits, even if something it started in the
 * background (`npm run dev &`) keeps the log open. A timeout stops every process of its tag
 * (SIGTERM, SIGKILL after the grace); the caller stops what it left on failure the same way.
 */
export interface LoggedCommandRequest {
  readonly command: string;
  readonly cwd: string;
  /** The complete environment; must hold the tag. */
  readonly env: Readonly<Record<string, string>>;
  readonly tag: { readonly name: string; readonly value: string };
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly logPath: string;
}

export interface LoggedCommandResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** The end of what it printed (stdout and stderr, as interleaved in the log). */
  readonly tail: string;
}

export async function runLoggedCommand(request: LoggedCommandRequest): Promise<LoggedCommandResult> {
  // Appending, and read back for the tail.
  const fd = openSync(request.logPath, 'a+', 0o600);
  try {
    writeSync(fd, `$ ${request.command}\n`);
    const from = fstatSync(fd).size;
    const child = spawn(SHELL, ['-c', request.command], {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stopProcessTrees({ tag: request.tag }, { graceMs: request.graceMs, signals: ['SIGTERM'] });
    }, request.timeoutMs);
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new LanevisorError('SPAWN_ERROR', `could not start ${SHELL}: ${errorMessage(error)}`, { cause: error })),
      );
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }).finally(() => clearTimeout(timer));
    return { exitCode: exit.code, signal: exit.signal, timedOut, tail: await readTail(fd, from) };
  } finally {
    await promisify(close)(fd).catch(() => undefined);
  }
}

async function readTail(fd: number, from: number): Promise<string> {
  const size = fstatSync(fd).size;
  const start = Math.max(from, size - LOGGED_TAIL_BYTES);
  const buffer = Buffer.alloc(size - start);
  const { bytesRead } = await promisify(read)(fd, buffer, 0, buffer.byteLength, start);
  return buffer.subarray(0, bytesRead).toString('utf8');
}
