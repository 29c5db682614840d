import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { listPids } from '../../actors/process/proc.js';
import { distModule } from '../support/dist.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';
import { cmdlineOf, livePidsTagged } from '../support/proc-scan.js';

/**
 * `lanevisor … | head`: the reader of the command's output goes away before the command is done.
 * Run as a person runs it, in a shell pipeline, with pipefail so the shell reports lanevisor's own
 * exit code. Before, the first write after that died with Node's stack trace for an unhandled
 * EPIPE, and `run` left its lane (worktree, branch, the command still running) behind.
 */
let repo: TempRepo | undefined;
afterEach(() => {
  repo?.dispose();
  repo = undefined;
});

/** An argument of the lanes' commands (bash's `$0`), by which their processes are found in /proc. */
const MARKER = 'closed-output-marker';

/** Pids whose command line holds `text`, this test's own shell pipelines aside. */
function processesNamed(text: string): number[] {
  return listPids().filter((pid) => {
    const argv = cmdlineOf(pid);
    return argv.includes(text) && !argv.includes('pipefail');
  });
}

const LANEVISOR = `${JSON.stringify(process.execPath)} ${JSON.stringify(distModule('cli/main.js'))}`;

function pipeline(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const shell = spawn('bash', ['-c', `set -o pipefail; ${script}`], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    shell.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    shell.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a command whose output is closed', () => {
  it('ends quietly, with the exit code of SIGPIPE, when it has nothing to stop', async () => {
    repo = createTempRepo();
    // The reader closes its end at once, long before Node has started: the first write fails.
    const result = await pipeline(`${LANEVISOR} --help | { exec 0<&-; sleep 0.5; }`, repo.path);
    expect(result.code).toBe(141);
    expect(result.stderr).toBe('');
  });

  it('run: stops its command and cleans its lane up, leaving what the user made', async () => {
    repo = createTempRepo();
    gitIn(repo.path, 'branch', 'lane/mine');
    const result = await pipeline(
      `${LANEVISOR} run --label ticking -- bash -c 'while :; do echo tick; sleep 0.05; done' ${MARKER} | head -2`,
      repo.path,
    );
    expect(processesNamed(MARKER)).toEqual([]);
    expect(result.stdout.trim().split('\n')).toHaveLength(2);
    expect(result.stderr).toContain('lanevisor: the output was closed: stopping and cleaning up');
    expect(result.stderr).not.toContain('EPIPE');
    expect(result.code).toBe(141);
    expect(gitIn(repo.path, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(gitIn(repo.path, 'branch', '--format=%(refname:short)').split('\n').sort()).toEqual(['lane/mine', 'main']);
  }, 30_000);

  it('run: a reader gone after the commands ended (the summary cannot be written) still exits 141, all cleaned', async () => {
    repo = createTempRepo();
    const result = await pipeline(
      `${LANEVISOR} run --label done -- bash -c 'echo finished' | grep -m1 'pty.stopped'`,
      repo.path,
    );
    expect(result.stdout).toMatch(/ pty\.stopped done exitCode=0\n$/);
    expect(result.code).toBe(141);
    expect(gitIn(repo.path, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
  }, 30_000);

  it('serve exits 141 (not 0, as on Ctrl-C) and demo takes away what it made in the repository', async () => {
    repo = createTempRepo();
    const served = await pipeline(`${LANEVISOR} serve | { exec 0<&-; sleep 0.5; }`, repo.path);
    expect(served.stderr).toContain('lanevisor: the output was closed: stopping the server and the runtime');
    expect(served.code).toBe(141);

    const refs = gitIn(repo.path, 'for-each-ref', '--format=%(refname) %(objectname)');
    const demoDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('lanevisor-demo-'));
    const dirsBefore = demoDirs();
    const demo = await pipeline(`${LANEVISOR} demo --json --repo . | { exec 0<&-; sleep 0.5; }`, repo.path);
    expect(demo.stderr).toContain('lanevisor: the output was closed: stopping the demo and removing what it made');
    expect(demo.code).toBe(141);
    expect(gitIn(repo.path, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(refs);
    expect(gitIn(repo.path, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(demoDirs().filter((name) => !dirsBefore.includes(name))).toEqual([]);
  }, 60_000);

  it('exec: stops the command in the lane and exits 141; the lane stays', async () => {
    repo = createTempRepo();
    const kept = await pipeline(`${LANEVISOR} run --keep --label kept -- true`, repo.path);
    expect(kept.code).toBe(0);
    const lanes = JSON.parse((await pipeline(`${LANEVISOR} ls --json`, repo.path)).stdout) as Array<{ id: string }>;
    const laneId = lanes[0]?.id as string;
    expect(laneId).toMatch(/^lane_/);
    const result = await pipeline(`${LANEVISOR} exec kept -- yes | head -2`, repo.path);
    expect(result.stdout).toBe('y\ny\n');
    expect(result.stderr).toContain('lanevisor: the output was closed: stopping the command');
    expect(result.code).toBe(141);
    expect(livePidsTagged('LANEVISOR_LANE_ID', laneId)).toEqual([]);
    expect((await pipeline(`${LANEVISOR} clean kept`, repo.path)).code).toBe(0);
  }, 30_000);
});
