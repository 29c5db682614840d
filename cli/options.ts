import type { Command } from 'commander';
import { createRuntime, type Runtime, type RuntimeOptions } from '../index.js';
import { startInspectorRelay } from './inspect-relay.js';
import type { CliIo } from './io.js';

/** The options every command that opens a repository takes. */
export interface RepoFlags {
  readonly repo?: string;
  readonly stateDir?: string;
  readonly worktreeRoot?: string;
  readonly json?: boolean;
  readonly trace?: string;
  readonly inspect?: boolean;
}

export function addRepoOptions(command: Command, options: { readonly trace?: boolean } = {}): Command {
  command
    .option('--repo <dir>', 'any path inside the repository (default: the current directory)')
    .option('--state-dir <dir>', 'the state directory (default: <git common dir>/lanevisor)')
    .option('--worktree-root <dir>', 'where lane worktrees live (default: <repo>.lanes)')
    .option('--json', 'machine-readable output');
  if (options.trace !== false) addInspectionOptions(command);
  return command;
}

export function addInspectionOptions(command: Command): Command {
  return command
    .option('--trace <file>', 'append every inspection event to FILE as JSON lines')
    .option('--inspect', 'serve the actors to the Stately inspector on 127.0.0.1 and print the page to open');
}

/** With `--inspect`, a relay for the Stately inspector (its page printed on stderr); its `inspect` goes to createRuntime. */
export async function startInspection(
  flags: Pick<RepoFlags, 'inspect'>,
  io: CliIo,
): Promise<{ readonly options: Pick<RuntimeOptions, 'inspect'>; close(): Promise<void> }> {
  if (!flags.inspect) return { options: {}, close: async () => undefined };
  const relay = await startInspectorRelay();
  io.stderr(`lanevisor: inspector page ${relay.pageUrl} (events at ${relay.socketUrl}; loopback only)\n`);
  return { options: { inspect: relay.inspect }, close: () => relay.close() };
}

export function runtimeOptionsOf(flags: RepoFlags, io: CliIo): RuntimeOptions {
  return {
    repo: flags.repo ?? io.cwd ?? process.cwd(),
    ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
    ...(flags.worktreeRoot ? { worktreeRoot: flags.worktreeRoot } : {}),
    ...(flags.trace ? { trace: flags.trace } : {}),
  };
}

/** Starts a runtime on the repository (reconciling first), runs `work`, and shuts it down keeping the lanes. */
export async function withRuntime<T>(flags: RepoFlags, io: CliIo, work: (rt: Runtime) => Promise<T>): Promise<T> {
  const inspection = await startInspection(flags, io);
  try {
    const rt = await createRuntime({ ...runtimeOptionsOf(flags, io), ...inspection.options });
    try {
      return await work(rt);
    } finally {
      await rt.shutdown();
    }
  } finally {
    await inspection.close();
  }
}

/** "3 s", "4 min", "2 h", "5 d": how long ago, for people. */
export function ageOf(sinceMs: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - sinceMs) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/**
 * `PAGER=cat` and `GIT_PAGER=cat` unless the user set them: a command run by `run` or `exec` has
 * no one to page for, and `git log` would otherwise wait forever in `less`.
 */
export function pagerDefaults(env: NodeJS.ProcessEnv): Record<string, string> {
  const defaults: Record<string, string> = {};
  if (env.PAGER === undefined) defaults.PAGER = 'cat';
  if (env.GIT_PAGER === undefined) defaults.GIT_PAGER = 'cat';
  return defaults;
}
