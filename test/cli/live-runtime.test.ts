import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { controlPathsOf } from '../../supervision/control/control-protocol.js';
import { runLanevisor } from '../support/cli.js';
import { distModule, killChild, lineFrom, spawnNodeScript } from '../support/dist.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

/**
 * The command line against a runtime alive in another process: carried out by it over its
 * control socket (never LOCKED), and, once that process is SIGKILLed, at once as with none alive.
 */
let repo: TempRepo | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  await killChild(child);
  child = undefined;
  if (repo !== undefined) {
    // What the killed runtime left: the next runtime (this cleanup) reconciles and removes it.
    await runLanevisor(['clean', '--all', '--discard', '--repo', repo.path]);
    repo.dispose();
  }
  repo = undefined;
});

function startRuntimeProcess(path: string): ChildProcess {
  const script = `
    import { createRuntime } from ${JSON.stringify(distModule('index.js'))};
    const rt = await createRuntime({ repo: ${JSON.stringify(path)}, pty: { host: 'inline' } });
    const lane = await rt.createLane({ label: 'work' });
    await rt.createLane({ label: 'kept' });
    const pty = await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-c', 'echo first-line; exec sleep 600'] });
    process.stdout.write(JSON.stringify({ runtimeId: rt.id, laneId: lane.id, ptyId: pty.id }) + '\\n');
    setInterval(() => undefined, 1000);
  `;
  return spawnNodeScript(script);
}

const json = (text: string) => JSON.parse(text) as Record<string, unknown> & unknown[];

describe('the command line and a live runtime in another process', () => {
  it('status, ls, spawn, logs, exec and clean are carried out by it; after it is killed they go on without it', async () => {
    repo = createTempRepo();
    const at = ['--repo', repo.path];
    child = startRuntimeProcess(repo.path);
    const started = JSON.parse(await lineFrom(child)) as { runtimeId: string; laneId: string; ptyId: string };

    const status = await runLanevisor(['status', '--json', ...at]);
    expect(status.code).toBe(0);
    const live = JSON.parse(status.stdout) as {
      runtime: { id: string; pid: number; repo: string; ptyHost: unknown };
      lanes: Array<{ id: string; label: string; ptys: Array<{ id: string; state: string }> }>;
    };
    expect(live.runtime).toMatchObject({ id: started.runtimeId, pid: child.pid, repo: repo.path, ptyHost: null });
    expect(live.lanes.map((lane) => [lane.label, lane.ptys.map((pty) => pty.id)])).toEqual([
      ['work', [started.ptyId]],
      ['kept', []],
    ]);
    const table = await runLanevisor(['status', ...at]);
    expect(table.stdout).toContain(`runtime ${started.runtimeId}, pid ${child.pid}`);
    expect(table.stdout).toContain(started.ptyId);

    // ls: the records, with the live runtime's state and PTYs.
    const listed = json((await runLanevisor(['ls', '--json', ...at])).stdout) as unknown as Array<{
      id: string;
      state: string;
      ptys: Array<{ id: string }>;
      dirty: boolean;
    }>;
    expect(listed.find((lane) => lane.id === started.laneId)).toMatchObject({
      state: 'ready',
      dirty: false,
      ptys: [{ id: started.ptyId }],
    });

    const logs = await runLanevisor(['logs', 'work', ...at]);
    expect(logs).toMatchObject({ code: 0 });
    expect(logs.stdout).toContain('first-line');

    const spawned = await runLanevisor([
      'spawn',
      'work',
      '--json',
      ...at,
      '--',
      'bash',
      '--norc',
      '--noprofile',
      '-c',
      'sleep 2; echo from-spawn; exit 3',
    ]);
    expect(spawned.code).toBe(0);
    const pty = JSON.parse(spawned.stdout) as { id: string; laneId: string; restart: string };
    expect(pty).toMatchObject({ laneId: started.laneId, restart: 'temporary' });
    // Follow from the oldest retained byte to its end (it ends 2 s after it began): the PTY's exit code is the command's.
    const followed = await runLanevisor(['logs', 'work', '--pty', pty.id, '--follow', ...at]);
    expect(followed.stdout).toContain('from-spawn');
    expect(followed.code).toBe(3);

    // exec: output streamed, stdin passed, exit code kept, the lane's worktree as cwd.
    const stdin = new PassThrough();
    stdin.end('piped-in\n');
    const exec = await runLanevisor(['exec', 'work', ...at, '--', 'bash', '-c', 'read x; echo "$x at $PWD"; exit 4'], {
      stdin,
    });
    expect(exec.code).toBe(4);
    expect(exec.stdout).toMatch(/^piped-in at .*\/.+\n$/);
    expect(exec.stderr).toBe('');

    const unknown = await runLanevisor(['spawn', 'nope', '--json', ...at, '--', 'true']);
    expect(unknown.code).toBe(1);
    expect(json(unknown.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const cleaned = await runLanevisor(['clean', 'work', '--json', ...at]);
    expect(cleaned.code).toBe(0);
    expect(json(cleaned.stdout)).toMatchObject([{ laneId: started.laneId, branchKept: false }]);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/work')).toBe('');
    const after = JSON.parse((await runLanevisor(['status', '--json', ...at])).stdout) as {
      lanes: Array<{ label: string }>;
    };
    expect(after.lanes.map((lane) => lane.label)).toEqual(['kept']);

    // The runtime is killed: its socket stays behind and refuses; the commands go on at once.
    const made = json((await runLanevisor(['exec', 'nope', '--json', ...at, '--', 'true'])).stdout);
    expect(made).toMatchObject({ error: { code: 'NOT_FOUND' } });
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    const stateDir = JSON.parse((await runLanevisor(['status', '--json', ...at])).stdout) as { runtime: unknown };
    expect(stateDir.runtime).toBeNull();
    const socket = controlPathsOf(`${repo.path}/.git/lanevisor`).socket;
    expect(existsSync(socket)).toBe(true);
    const begun = performance.now();
    const offline = await runLanevisor(['spawn', 'work', ...at, '--', 'true']);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('no lanevisor runtime is running on this repository');
    // Connect refused is an answer, not a wait (a timeout would take seconds).
    expect(performance.now() - begun).toBeLessThan(5_000);
    const alone = await runLanevisor(['status', ...at]);
    expect(alone.stdout).toContain('no runtime is running');
    // exec and clean start a runtime of their own, which takes over what the dead one left.
    const execAfter = await runLanevisor(['exec', 'kept', ...at, '--', 'bash', '-c', 'echo after-the-crash']);
    expect(execAfter).toMatchObject({ code: 0, stdout: 'after-the-crash\n' });
    const cleanAfter = await runLanevisor(['clean', 'kept', '--json', ...at]);
    expect(cleanAfter.code).toBe(0);
    expect(await runLanevisor(['ls', '--json', ...at])).toMatchObject({ code: 0, stdout: '[]\n' });
  });
});
