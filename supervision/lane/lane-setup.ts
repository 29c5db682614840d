import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runLoggedCommand } from '../../actors/exec/run-logged.js';
import { bringIntoWorktree } from '../../actors/setup/setup-files.js';
import { stopTaggedTree } from '../../actors/task/builtin-task.js';
import { errorMessage, LanevisorError } from '../../bus/errors.js';
import type { LifecyclePayload } from '../../bus/lifecycle.js';
import type { LanePlan } from '../config/lane-plan.js';
import { LANE_ID_VARIABLE, RUNTIME_ID_VARIABLE } from '../pty/spawn-request.js';
import { EXEC_ID_VARIABLE } from './lane-exec.js';

/** Lines of a failed command's output the error carries. */
export const SETUP_ERROR_LINES = 20;
/** Grace between SIGTERM and SIGKILL for what a failed setup command left running. */
export const SETUP_SWEEP_GRACE_MS = 1_000;

export interface SetupPlace {
  readonly laneId: string;
  readonly runtimeId: string;
  readonly mainTree: string;
  readonly worktreePath: string;
  /** The lane's log: every command's output is appended. */
  readonly logPath: string;
  /** The lane's environment (deny applied, set and port added). */
  readonly env: Readonly<Record<string, string>>;
  readonly publish: (payload: LifecyclePayload<'lane.setup_step'>) => void;
}

type Step =
  | { readonly kind: 'copy' | 'symlink'; readonly target: string }
  | { readonly kind: 'run' | 'teardown'; readonly target: string };

/**
 * A new lane's setup, step by step (copies, links, then commands), each announced as it ends. The
 * first failing step throws SETUP_FAILED naming it, with the last lines of its output; what that
 * command started is stopped by its tag. The caller rolls the lane back.
 */
export async function runSetup(setup: NonNullable<LanePlan['setup']>, place: SetupPlace): Promise<void> {
  const steps: Step[] = [
    ...setup.copy.map((target) => ({ kind: 'copy' as const, target })),
    ...setup.symlink.map((target) => ({ kind: 'symlink' as const, target })),
    ...setup.run.map((target) => ({ kind: 'run' as const, target })),
  ];
  for (const [at, step] of steps.entries()) {
    const started = performance.now();
    const base = { laneId: place.laneId, index: at + 1, total: steps.length, kind: step.kind, target: step.target };
    const took = () => Math.round(performance.now() - started);
    if (step.kind === 'copy' || step.kind === 'symlink') {
      let warnings: readonly string[];
      try {
        ({ warnings } = await bringIntoWorktree(step.kind, step.target, place.mainTree, place.worktreePath));
      } catch (error) {
        throw setupFailed(base, `${step.kind} ${step.target} failed: ${errorMessage(error)}`, []);
      }
      place.publish({ ...base, durationMs: took(), ...(warnings.length > 0 ? { warnings: [...warnings] } : {}) });
      continue;
    }
    const result = await runStep(step.target, `setup-${at + 1}`, setup.timeoutMs, place);
    place.publish({ ...base, exitCode: result.exitCode, durationMs: took() });
    if (result.exitCode !== 0) {
      const how = result.timedOut
        ? `timed out after ${setup.timeoutMs} ms`
        : `exited ${result.exitCode ?? result.signal}`;
      throw setupFailed(base, `${JSON.stringify(step.target)} ${how}`, result.lastLines);
    }
  }
}

/**
 * `teardown.run` at cleanup, before the worktree goes. Every command runs even after one failed;
 * the failures are returned for the cleanup report, and never stop the cleanup.
 */
export async function runTeardown(
  commands: readonly string[],
  timeoutMs: number,
  place: SetupPlace,
): Promise<{ readonly ok: boolean; readonly message?: string }> {
  const failures: string[] = [];
  for (const [at, command] of commands.entries()) {
    const started = performance.now();
    const result = await runStep(command, `teardown-${at + 1}`, timeoutMs, place).catch((error: unknown) => ({
      exitCode: null,
      signal: null,
      timedOut: false,
      lastLines: [errorMessage(error)],
    }));
    place.publish({
      laneId: place.laneId,
      index: at + 1,
      total: commands.length,
      kind: 'teardown',
      target: command,
      exitCode: result.exitCode,
      durationMs: Math.round(performance.now() - started),
    });
    if (result.exitCode !== 0)
      failures.push(`${JSON.stringify(command)} exited ${result.exitCode ?? result.signal ?? 'abnormally'}`);
  }
  return failures.length === 0 ? { ok: true } : { ok: false, message: `teardown: ${failures.join('; ')}` };
}

async function runStep(command: string, name: string, timeoutMs: number, place: SetupPlace) {
  const tag = { name: EXEC_ID_VARIABLE, value: `${place.laneId}/${name}` };
  await mkdir(dirname(place.logPath), { recursive: true, mode: 0o700 });
  const result = await runLoggedCommand({
    command,
    cwd: place.worktreePath,
    env: {
      ...place.env,
      [LANE_ID_VARIABLE]: place.laneId,
      [RUNTIME_ID_VARIABLE]: place.runtimeId,
      [tag.name]: tag.value,
    },
    tag,
    timeoutMs,
    graceMs: SETUP_SWEEP_GRACE_MS,
    logPath: place.logPath,
  });
  // What it left behind (a server started with &) goes with a failure.
  if (result.exitCode !== 0) await stopTaggedTree(tag.name, tag.value, SETUP_SWEEP_GRACE_MS);
  const lastLines = result.tail
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-SETUP_ERROR_LINES);
  return { exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, lastLines };
}

function setupFailed(
  step: { index: number; total: number; kind: string; target: string },
  what: string,
  lastLines: readonly string[],
): LanevisorError {
  const last = lastLines.at(-1);
  return new LanevisorError(
    'SETUP_FAILED',
    `setup step ${step.index} of ${step.total}: ${what}${last === undefined ? '' : `: ${last}`}`,
    { details: { step: step.index, kind: step.kind, target: step.target, lastLines: [...lastLines] } },
  );
}
