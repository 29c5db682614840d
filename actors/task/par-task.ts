import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { LanevisorError } from '../../bus/errors.js';
import { resolveExecutable } from '../process/resolve-executable.js';
import type { TaskBackend, TaskBinding, TaskLane } from './task-backend.js';

/**
 * Drives coplane/par as the lane's task: `par start <label> -p <repo> -b <sha>` binds it,
 * par's JSON state file (`$XDG_DATA_HOME/par/state.json`: repository root → label → session
 * facts) tells whether the session still exists, `par rm <label>` ends it. par is a Python tool
 * that this machine cannot install; it is tested against a stand-in that follows its documented
 * commands and state file (test/fixtures/par).
 */
export const PAR_COMMAND = 'par';
/** par commands are quick; one that hangs is not waited for forever. */
const PAR_TIMEOUT_MS = 60_000;

interface ParSession {
  readonly worktree_path?: string;
  readonly tmux_session_name?: string;
  readonly branch_name?: string;
}

export function parStateFile(env: NodeJS.ProcessEnv = process.env): string {
  const dataHome =
    env.XDG_DATA_HOME && env.XDG_DATA_HOME.length > 0 ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(dataHome, 'par', 'state.json');
}

export function createParTask(env: NodeJS.ProcessEnv = process.env): TaskBackend {
  const par = () => {
    const file = resolveExecutable(PAR_COMMAND, process.cwd(), env.PATH);
    if (file === undefined) {
      throw new LanevisorError(
        'SPAWN_ERROR',
        `the par task backend needs the "${PAR_COMMAND}" command, which is not on PATH; install coplane/par or use task: 'builtin'`,
        {
          details: { command: PAR_COMMAND },
        },
      );
    }
    return file;
  };
  const run = async (args: string[], lane: TaskLane): Promise<void> => {
    const result = await execa(par(), args, {
      cwd: lane.repo,
      env,
      extendEnv: false,
      reject: false,
      timeout: PAR_TIMEOUT_MS,
      stdin: 'ignore',
    });
    if (result.exitCode !== 0) {
      throw new LanevisorError(
        'SPAWN_ERROR',
        `par ${args[0]} failed (${result.exitCode ?? result.signal}): ${String(result.stderr).trim() || String(result.stdout).trim()}`,
        {
          details: { args },
        },
      );
    }
  };
  const session = async (lane: TaskLane, label: string): Promise<ParSession | undefined> => {
    let state: Record<string, Record<string, ParSession>>;
    try {
      state = JSON.parse(await readFile(parStateFile(env), 'utf8')) as Record<string, Record<string, ParSession>>;
    } catch {
      return undefined;
    }
    return state[lane.repo]?.[label];
  };
  const labelOf = (lane: TaskLane) => lane.label ?? lane.laneId;
  return {
    name: 'par',
    async bind(lane: TaskLane): Promise<TaskBinding> {
      const label = labelOf(lane);
      await run(['start', label, '-p', lane.repo, '-b', lane.baseSha], lane);
      const facts = await session(lane, label);
      if (facts === undefined) {
        throw new LanevisorError(
          'SPAWN_ERROR',
          `par started "${label}" but its state file ${parStateFile(env)} does not list it`,
        );
      }
      return { backend: 'par', facts: { label, ...facts } };
    },
    async health(binding: TaskBinding, lane: TaskLane): Promise<boolean> {
      return (await session(lane, String(binding.facts.label))) !== undefined;
    },
    async terminate(binding: TaskBinding, lane: TaskLane): Promise<void> {
      const label = String(binding.facts.label);
      if ((await session(lane, label)) === undefined) return;
      await run(['rm', label], lane);
    },
  };
}
