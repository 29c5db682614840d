import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE } from '../../cli/io.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import { runLanevisor } from '../support/cli.js';
import { distModule } from '../support/dist.js';
import { createTempRepo, type TempRepo } from '../support/git-repo.js';
import { isAlive } from '../support/proc-scan.js';
import { waitUntil } from '../support/wait.js';

let repo: TempRepo;
afterEach(() => repo?.dispose());

/** A lane `work` made by a runtime that then shut down, as an orchestrator leaves it. */
async function laneWork(): Promise<string> {
  repo = createTempRepo();
  const rt = await createRuntime({ repo: repo.path });
  const lane = await rt.createLane({ label: 'work' });
  await rt.shutdown();
  return lane.worktreePath;
}

const exec = (argv: string[], io: Parameters<typeof runLanevisor>[1] = {}) =>
  runLanevisor(['exec', 'work', '--repo', repo.path, ...argv], io);

describe('lanevisor exec', () => {
  it('passes stdin to the command', async () => {
    await laneWork();
    const result = await exec(['--', 'tr', 'a-z', 'A-Z'], { stdin: Readable.from(['hello\n', 'lanes\n']) });
    expect(result).toMatchObject({ code: EXIT_OK, stdout: 'HELLO\nLANES\n' });
  });

  it('streams output as it comes, not when the command ends', async () => {
    const worktree = await laneWork();
    // The command waits for a file the test makes only once it has seen the first line.
    const script = 'echo first; while [ ! -f go ]; do sleep 0.05; done; echo second >&2; echo third';
    const result = await exec(['--', 'bash', '-c', script], {
      onStdout: (text) => {
        if (text.includes('first')) writeFileSync(join(worktree, 'go'), '');
      },
    });
    expect(result).toMatchObject({ code: EXIT_OK, stdout: 'first\nthird\n', stderr: 'second\n' });
  });

  it('exits 124 with one line when --timeout stops the command, 128+N when signal N ended it', async () => {
    await laneWork();
    const timedOut = await exec(['--timeout', '300', '--', 'sleep', '30']);
    expect(timedOut.code).toBe(EXIT_TIMEOUT);
    expect(timedOut.stderr).toBe(
      'lanevisor: the command ran out of time (300 ms) and was stopped, with everything it started\n',
    );
    const killed = await exec(['--', 'bash', '-c', 'kill -KILL $$']);
    expect(killed).toMatchObject({ code: 128 + 9, stderr: 'lanevisor: the command was ended by SIGKILL\n' });
    const json = await exec(['--json', '--timeout', '300', '--', 'sleep', '30']);
    expect(json.code).toBe(EXIT_TIMEOUT);
    expect(JSON.parse(json.stdout)).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
  });

  it('says which flag is wrong and what it takes (exit 2)', async () => {
    await laneWork();
    const bad = await exec(['--timeout', 'abc', '--', 'true']);
    expect(bad).toMatchObject({ code: EXIT_USAGE, stdout: '' });
    expect(bad.stderr).toBe(
      "lanevisor: option '--timeout <ms>' argument 'abc' is invalid: expected a whole number of milliseconds, from 1 to 2147483647; see lanevisor exec --help\n",
    );
  });

  it('runs the command with PAGER=cat and GIT_PAGER=cat unless they are set', async () => {
    await laneWork();
    const result = await exec(['--', 'bash', '-c', 'echo "$PAGER/$GIT_PAGER"']);
    expect(result.stdout).toBe('cat/cat\n');
    const own = await exec(['--', 'bash', '-c', 'echo "$PAGER"'], { env: { PAGER: 'less' } });
    expect(own.stdout).not.toBe('cat\n');
  });

  it('on Ctrl-C stops the command and exits 130', async () => {
    await laneWork();
    const child = spawn(
      process.execPath,
      [distModule('cli/main.js'), 'exec', 'work', '--repo', repo.path, '--', 'bash', '-c', 'echo $$; sleep 300'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitUntil(() => /^\d+\n/.test(stdout), 'the command to start', 20_000);
    const commandPid = Number(stdout.trim());
    process.kill(-(child.pid as number), 'SIGINT');
    expect(await exited).toBe(130);
    expect(isAlive(commandPid)).toBe(false);
  });
});
