import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../cli/program.js';
import { runLanevisor } from '../support/cli.js';
import { distModule } from '../support/dist.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';
import { waitUntil } from '../support/wait.js';

let repo: TempRepo;
afterEach(() => repo?.dispose());

const run = (argv: string[]) => runLanevisor(argv);

const nothingLeft = () => ({
  branches: gitIn(repo.path, 'branch', '--list', 'lane/*'),
  worktrees: gitIn(repo.path, 'worktree', 'list').split('\n').length,
});

describe('lanevisor run', () => {
  it('runs the command in a terminal in each lane, prefixes its lines, logs it, summarizes and cleans up', async () => {
    repo = createTempRepo();
    const script = 'echo "hello from $(git rev-parse --abbrev-ref HEAD)"; test -t 1 && echo tty; echo dirty > out.txt';
    const result = await run([
      'run',
      '--repo',
      repo.path,
      '--label',
      'one',
      '--label',
      'two',
      '--',
      'bash',
      '-c',
      script,
    ]);
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(result.stdout).toContain('[one] hello from lane/one\n');
    expect(result.stdout).toContain('[two] hello from lane/two\n');
    expect(result.stdout).toContain('[one] tty\n');
    expect(result.stdout).toMatch(/ lane\.created one branch=lane\/one\n/);
    expect(result.stdout).toMatch(/ pty\.stopped two exitCode=0\n/);
    const summary = result.stdout.slice(result.stdout.indexOf('LANE  '));
    expect(summary).toMatch(/^LANE\s+EXIT\s+DURATION\s+BRANCH\s+LOG\s+SALVAGED\n/);
    const oneRow = summary.split('\n').find((line) => line.startsWith('one ')) as string;
    expect(oneRow).toMatch(
      /^one\s+0\s+\d+\.\d s\s+lane\/one \(removed\)\s+(\S+\.log)\s+refs\/lanevisor\/salvage\/lane_/,
    );
    const log = (/(\S+\.log)/.exec(oneRow) as RegExpExecArray)[1] as string;
    expect(readFileSync(log, 'utf8')).toContain('hello from lane/one');
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
  });

  it('exits 1 when a command fails, keeps lanes with --keep, and prints JSON lines with --json', async () => {
    repo = createTempRepo();
    const failed = await run(['run', '--repo', repo.path, '--lanes', '2', '--', 'bash', '-c', 'exit 3']);
    expect(failed.code).toBe(1);
    const kept = await run(['run', '--repo', repo.path, '--keep', '--json', '--label', 'stay', '--', 'true']);
    expect(kept.code).toBe(EXIT_OK);
    const lines = kept.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((line) => line.topic === 'lane.created')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', lanes: [{ name: 'stay', exitCode: 0, kept: true }] });
    expect(gitIn(repo.path, 'for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads/lane/')).toBe('lane/stay');
    expect((await run(['clean', '--all', '--repo', repo.path])).code).toBe(EXIT_OK);
    const bad = await run(['run', '--repo', repo.path, '--lanes', '2', '--label', 'x', '--', 'true']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not both');
  });

  /** `lanevisor run` in its own process, running `sleep 300` in one lane, once the command started. */
  async function runningChild(...extra: string[]) {
    const child = spawn(
      process.execPath,
      [distModule('cli/main.js'), 'run', '--repo', repo.path, ...extra, '--', 'sleep', '300'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    await waitUntil(() => stdout.includes('pty.spawned'), 'the command to start', 20_000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { child, exited, output: () => stdout };
  }

  it('on SIGINT stops the commands, cleans up in order and exits 130', async () => {
    repo = createTempRepo();
    const { child, exited, output } = await runningChild();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(output()).toContain('lane.closed');
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
  });

  it('on SIGTERM with --keep stops the commands, keeps the lanes and exits 143', async () => {
    repo = createTempRepo();
    const { child, exited, output } = await runningChild('--keep', '--label', 'kept');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(output()).not.toContain('lane.closed');
    expect(gitIn(repo.path, 'for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads/lane/')).toBe('lane/kept');
    expect((await run(['clean', 'kept', '--repo', repo.path])).code).toBe(EXIT_OK);
  });
});

describe('lanevisor run on a terminal', () => {
  it('redraws a live status table in place, then prints the summary', async () => {
    repo = createTempRepo();
    const { code, stdout } = await runLanevisor(
      ['run', '--repo', repo.path, '--label', 'live', '--', 'bash', '-c', 'echo first; sleep 0.6; echo second'],
      { isTTY: true },
    );
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/^LANE\s+STATE\s+PTYS\s+LAST OUTPUT\s+ELAPSED\n/);
    expect(stdout).toContain('\u001b[2A\u001b[J');
    expect(stdout).toMatch(/live\s+ready\s+1\s+first\s+\d+\.\d s/);
    expect(stdout).toMatch(/live\s+ready\s+\d\s+second\s+\d+\.\d s/);
    expect(stdout).not.toContain('[live]');
  });
});

describe('lanevisor run --inspect', () => {
  it('prints where the inspector page is, and the run still succeeds', async () => {
    repo = createTempRepo();
    const result = await run(['run', '--inspect', '--repo', repo.path, '--', 'true']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stderr).toMatch(
      /^lanevisor: inspector page http:\/\/127\.0\.0\.1:\d+\/ \(events at ws:\/\/127\.0\.0\.1:\d+; loopback only\)\n$/,
    );
  });
});
