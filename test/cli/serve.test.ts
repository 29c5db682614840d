import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runLanevisor } from '../support/cli.js';
import { distModule, killChild, lineFrom } from '../support/dist.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

/** `lanevisor serve` as a person runs it: a process that serves until stopped, and what it leaves. */
let repo: TempRepo | undefined;
let server: ChildProcess | undefined;
afterEach(async () => {
  await killChild(server);
  server = undefined;
  if (repo !== undefined) await runLanevisor(['clean', '--all', '--discard', '--repo', repo.path]);
  repo?.dispose();
  repo = undefined;
});

function startServe(args: string[]): ChildProcess {
  return spawn(process.execPath, [distModule('cli/main.js'), 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('lanevisor serve', () => {
  it('serves the API with its token, lets the command line reach its runtime, and keeps the lanes when stopped', async () => {
    repo = createTempRepo();
    server = startServe(['--json', '--repo', repo.path]);
    const { url, token, pid } = JSON.parse(await lineFrom(server)) as { url: string; token: string; pid: number };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(pid).toBe(server.pid);
    const auth = { authorization: `Bearer ${token}` };
    const runtime = (await (await fetch(new URL('api/runtime', url), { headers: auth })).json()) as { repo: string };
    expect(runtime.repo).toBe(repo.path);
    expect((await fetch(new URL('api/runtime', url))).status).toBe(401);
    const created = await fetch(new URL('api/lanes', url), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'served' }),
    });
    expect(created.status).toBe(201);
    // The command line in another process reaches the same runtime.
    const status = JSON.parse((await runLanevisor(['status', '--json', '--repo', repo.path])).stdout) as {
      runtime: { pid: number };
      lanes: Array<{ label: string }>;
    };
    expect(status.runtime.pid).toBe(server.pid);
    expect(status.lanes.map((lane) => lane.label)).toEqual(['served']);

    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
    // Kept: the lane's branch and record are there for the next runtime.
    expect(gitIn(repo.path, 'branch', '--list', 'lane/served')).toContain('lane/served');
    const listed = JSON.parse((await runLanevisor(['ls', '--json', '--repo', repo.path])).stdout) as Array<{
      label: string;
    }>;
    expect(listed.map((lane) => lane.label)).toEqual(['served']);
  });

  it('with --keep-terminals leaves the PTYs running in the terminal host for the next serve, which takes them over', async () => {
    repo = createTempRepo();
    server = startServe(['--json', '--keep-terminals', '--repo', repo.path]);
    let served = JSON.parse(await lineFrom(server)) as { url: string; token: string };
    const call = (path: string, init: RequestInit = {}) =>
      fetch(new URL(path, served.url), {
        ...init,
        headers: { authorization: `Bearer ${served.token}`, 'content-type': 'application/json' },
      });
    const lane = (await (await call('api/lanes', { method: 'POST', body: '{"label":"survivor"}' })).json()) as {
      id: string;
    };
    const spawned = await call(`api/lanes/${lane.id}/ptys`, {
      method: 'POST',
      body: JSON.stringify({ command: 'bash', args: ['--norc', '--noprofile', '-c', 'echo alive; exec sleep 600'] }),
    });
    const pty = (await spawned.json()) as { id: string; pid: number };
    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
    if (process.env.LANEVISOR_PTY_HOST === 'inline') {
      // Inline there is no host to keep them in: they end with the runtime (shutdown's keepPtys).
      await expect.poll(() => isAlive(pty.pid)).toBe(false);
      return;
    }
    expect(isAlive(pty.pid)).toBe(true);

    server = startServe(['--json', '--repo', repo.path]);
    served = JSON.parse(await lineFrom(server)) as { url: string; token: string };
    const lanes = (await (await call('api/lanes')).json()) as Array<{ ptys: Array<{ id: string; pid: number }> }>;
    expect(lanes.flatMap((one) => one.ptys)).toMatchObject([{ id: pty.id, pid: pty.pid }]);
    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
  });

  it('cleans the lanes on exit with --clean-on-exit, and refuses it with --keep-terminals', async () => {
    repo = createTempRepo();
    const both = await runLanevisor(['serve', '--keep-terminals', '--clean-on-exit', '--repo', repo.path]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    server = startServe(['--json', '--clean-on-exit', '--repo', repo.path]);
    const { url, token } = JSON.parse(await lineFrom(server)) as { url: string; token: string };
    const created = await fetch(new URL('api/lanes', url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'short-lived' }),
    });
    expect(created.status).toBe(201);
    server.kill('SIGINT');
    expect(await exited(server)).toBe(0);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
    expect((await runLanevisor(['ls', '--json', '--repo', repo.path])).stdout).toBe('[]\n');
  });
});
