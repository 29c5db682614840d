import { execa } from 'execa';
import { LanevisorError } from '../../bus/errors.js';

/**
 * Runs git with an argument array (never a shell), in C locale so messages can be matched, with
 * prompts disabled so a command never waits for a person.
 */
export interface GitResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface GitOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** A git command that takes longer is killed (a hung filter, a network remote). */
  readonly timeoutMs?: number;
  /** What git reads on stdin (`update-ref --stdin`); otherwise stdin is closed. */
  readonly input?: string;
}

/** Long enough for a checkout of a large repository. */
export const DEFAULT_GIT_TIMEOUT_MS = 10 * 60 * 1000;

const GIT_ENV = { LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' };

/** Runs git; a non-zero exit, or death by a signal, is a result, not an exception. */
export async function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const result = await execa('git', args, {
    cwd: options.cwd,
    env: { ...GIT_ENV, ...options.env },
    reject: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    timeout: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
  });
  if (result.exitCode !== undefined) return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
  // Killed (a timeout, the OOM killer, someone else): a failed result the caller rolls back.
  if (result.signal !== undefined) {
    const killed = `git was killed by ${result.signal}${result.timedOut ? ' after its timeout' : ''}`;
    return { stdout: result.stdout, stderr: `${result.stderr}\n${killed}`.trim(), exitCode: -1 };
  }
  throw new LanevisorError('GIT_ERROR', `git ${args[0] ?? ''} could not run: ${result.shortMessage}`, {
    details: { args: [...args] },
  });
}

/** Runs git and returns its stdout, throwing GIT_ERROR with git's own message on a non-zero exit. */
export async function gitOrThrow(args: readonly string[], options: GitOptions): Promise<string> {
  const result = await git(args, options);
  if (result.exitCode !== 0) throw gitError(args, result);
  return result.stdout;
}

export function gitError(args: readonly string[], result: GitResult): LanevisorError {
  const reason = result.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${result.exitCode}`;
  return new LanevisorError('GIT_ERROR', `git ${args.slice(0, 2).join(' ')} failed: ${reason}`, {
    details: { args: [...args], exitCode: result.exitCode, stderr: result.stderr },
  });
}
