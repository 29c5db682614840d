import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE } from '../../cli/io.js';
import { runLanevisor } from '../support/cli.js';
import { distModule } from '../support/dist.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';
import { waitUntil } from '../support/wait.js';

let repo: TempRepo;
const ESC = '\u001b';
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
    expect(summary).toMatch(/^LANE\s+ID\s+EXIT\s+DURATION\s+BRANCH\s+LOG\s+SALVAGED\n/);
    const oneRow = summary.split('\n').find((line) => line.startsWith('one ')) as string;
    expect(oneRow).toMatch(
      /^one\s+lane_\w+\s+0\s+\d+\.\d s\s+lane\/one \(removed\)\s+(\S+\.log)\s+refs\/lanevisor\/salvage\/lane_/,
    );
    const log = (/(\S+\.log)/.exec(oneRow) as RegExpExecArray)[1] as string;
    expect(readFileSync(log, 'utf8')).toContain('hello from lane/one');
    // With no runtime alive, `logs` shows that log, by the lane's id (its record is gone with it).
    const laneId = (/\s(lane_\w+)\s/.exec(oneRow) as RegExpExecArray)[1] as string;
    const logs = await run(['logs', laneId, '--repo', repo.path]);
    expect(logs).toMatchObject({ code: EXIT_OK, stdout: readFileSync(log, 'utf8') });
    const following = await run(['logs', laneId, '--follow', '--repo', repo.path]);
    expect(following.code).toBe(1);
    expect(following.stderr).toContain('nothing to follow');
    // A name that is no lane and no log is a typo, said as every other command says it.
    const none = await run(['logs', 'lane_0000000000000000', '--repo', repo.path]);
    expect(none).toMatchObject({
      code: EXIT_FAILURE,
      stderr: 'lanevisor: no lane "lane_0000000000000000"; there are none (lanevisor ls)\n',
    });
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
    // A recorded lane without a log (made by another runtime than `run`'s, or its log pruned).
    expect((await run(['run', '--keep', '--label', 'kept', '--repo', repo.path, '--', 'true'])).code).toBe(EXIT_OK);
    rmSync(join(repo.path, '.git', 'lanevisor', 'logs'), { recursive: true });
    const unlogged = await run(['logs', 'kept', '--repo', repo.path]);
    expect(unlogged.code).toBe(EXIT_FAILURE);
    expect(unlogged.stderr).toContain('no lanevisor runtime is running on this repository, and there is no log of it');
    expect((await run(['clean', 'kept', '--repo', repo.path])).code).toBe(EXIT_OK);
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
  });

  it('refuses bad counts as usage errors (exit 2), and more lanes than the runtime holds at once, creating nothing', async () => {
    repo = createTempRepo();
    const bad = await run(['run', '--repo', repo.path, '--lanes', '2', '--label', 'x', '--', 'true']);
    expect(bad).toMatchObject({
      code: EXIT_USAGE,
      stderr: 'lanevisor: give --lanes N or one --label per lane, not both\n',
    });
    for (const count of ['1.5', '2abc', ' 3', '0', '-1', '']) {
      const result = await run(['run', '--repo', repo.path, '--lanes', count, '--', 'true']);
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stderr).toContain(`'--lanes <n>' argument '${count}' is invalid: expected a whole number of lanes`);
      expect(result.stderr).not.toContain('not both');
    }
    const started = Date.now();
    const huge = await run(['run', '--repo', repo.path, '--json', '--lanes', '100000', '--', 'true']);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(huge.code).toBe(EXIT_FAILURE);
    expect(huge.stderr).toContain('100000 lanes asked for, but this runtime holds at most 64 (maxLanes)');
    const lines = huge.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-2)).toMatchObject({ error: { code: 'CAPACITY' } });
    expect(lines.at(-1)).toEqual({ type: 'summary', lanes: [], exitCode: EXIT_FAILURE });
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
  });

  it('ends lanes whose command cannot start like failed ones: cleaned, summarized, exit 127; the label is free again', async () => {
    repo = createTempRepo();
    const missing = await run(['run', '--repo', repo.path, '--label', 'again', '--', 'no-such-command-here']);
    expect(missing.code).toBe(EXIT_NOT_FOUND);
    expect(missing.stderr).toContain('lanevisor: lane again: command not found');
    expect(missing.stdout).toMatch(/^again\s+lane_\w+\s+SPAWN_ERROR\s+/m);
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
    const json = await run(['run', '--repo', repo.path, '--json', '--label', 'again', '--', 'no-such-command-here']);
    expect(json.code).toBe(EXIT_NOT_FOUND);
    expect(JSON.parse(json.stdout.trim().split('\n').at(-1) as string)).toMatchObject({
      type: 'summary',
      exitCode: EXIT_NOT_FOUND,
      lanes: [{ name: 'again', kept: false, error: { code: 'SPAWN_ERROR' } }],
    });
    expect((await run(['run', '--repo', repo.path, '--label', 'again', '--', 'true'])).code).toBe(EXIT_OK);
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
  });

  it('names unlabelled lanes #1, #2, and starts each command as soon as its own lane is ready', async () => {
    repo = createTempRepo(3_000);
    const result = await run(['run', '--repo', repo.path, '--lanes', '2', '--', 'bash', '-c', 'echo hi']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('[#1] hi\n');
    expect(result.stdout).toContain('[#2] hi\n');
    expect(result.stdout).not.toMatch(/\[lane_/);
    // git adds worktrees one at a time: the first lane's command runs while the second is still made.
    const lines = result.stdout.split('\n');
    const firstSpawned = lines.findIndex((line) => / pty\.spawned #\d/.test(line));
    const bothReady = lines.filter((line) => / lane\.state_changed #\d to=ready/.test(line));
    expect(bothReady).toHaveLength(2);
    expect(firstSpawned).toBeLessThan(lines.indexOf(bothReady[1] as string));
  });

  it('gives the command PAGER=cat and GIT_PAGER=cat, so git log prints instead of waiting in a pager', async () => {
    repo = createTempRepo();
    const result = await run([
      'run',
      '--repo',
      repo.path,
      '--',
      'bash',
      '-c',
      'git log --oneline; echo "pager=$PAGER/$GIT_PAGER"',
    ]);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('[#1] pager=cat/cat\n');
    expect(result.stdout).toMatch(/\[#1\] [0-9a-f]{7,} .*initial\n/);
    const mine = await runLanevisor(['run', '--repo', repo.path, '--', 'bash', '-c', 'echo "pager=$PAGER"'], {
      env: { PAGER: 'more' },
    });
    expect(mine.stdout).not.toContain('pager=cat');
  });

  it('says when a lane waits for input', async () => {
    repo = createTempRepo();
    const result = await run(['run', '--repo', repo.path, '--', 'bash', '-c', 'read -t 3 answer; echo done']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/ pty\.activity #1 activity=waiting\n/);
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

  /** `lanevisor run` in its own process group, as a shell runs it (Ctrl-C reaches the group, git included). */
  function runInGroup(...argv: string[]) {
    const child = spawn(process.execPath, [distModule('cli/main.js'), 'run', '--repo', repo.path, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { child, exited, output: () => stdout };
  }

  it('Ctrl-C while lanes are being made (git killed with it) cleans up what was made and exits 130', async () => {
    repo = createTempRepo(6_000);
    const { child, exited, output } = runInGroup('--lanes', '3', '--', 'true');
    await waitUntil(() => output().includes('to=provisioning'), 'a lane to be provisioning', 20_000);
    process.kill(-(child.pid as number), 'SIGINT');
    expect(await exited).toBe(130);
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
    expect(gitIn(repo.path, 'for-each-ref', 'refs/lanevisor/branches/')).toBe('');
  }, 60_000);

  it('SIGTERM while lanes are being made is honoured too: exit 143, what was made cleaned up', async () => {
    repo = createTempRepo(6_000);
    const { child, exited, output } = runInGroup('--lanes', '2', '--', 'sleep', '300');
    await waitUntil(() => output().includes('to=provisioning'), 'a lane to be provisioning', 20_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(nothingLeft()).toEqual({ branches: '', worktrees: 1 });
  }, 60_000);

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
  it('redraws a live status table in place: lanes from the moment they are made, their states as they change', async () => {
    repo = createTempRepo();
    const { code, stdout } = await runLanevisor(
      ['run', '--repo', repo.path, '--label', 'live', '--', 'bash', '-c', 'echo first; sleep 0.6; echo second'],
      { isTTY: true },
    );
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/^LANE\s+STATE\s+PTYS\s+LAST OUTPUT\s+ELAPSED\n/);
    expect(stdout).toContain('\u001b[2A\u001b[J');
    expect(stdout).toMatch(/live\s+(new|provisioning)\s+0\s+\d+\.\d s/);
    expect(stdout).toMatch(/live\s+running\s+1\s+first\s+\d+\.\d s/);
    expect(stdout).toMatch(/live\s+(running|exited 0|cleaning|closed)\s+\d\s+second\s+\d+\.\d s/);
    expect(stdout).toMatch(/live\s+closed\s+0\s+second\s+\d+\.\d s/);
    expect(stdout).not.toContain('[live]');
  });

  it("shows a lane's setup in the live table while it is made: the last step that ended of all (setup 1/2)", async () => {
    repo = createTempRepo();
    // Step 2 lasts past two redraws (every 250 ms), so the table shows step 1 done.
    writeFileSync(join(repo.path, 'lanevisor.json'), JSON.stringify({ setup: { run: ['true', 'sleep 0.7'] } }));
    const { code, stdout } = await runLanevisor(['run', '--repo', repo.path, '--label', 'set', '--', 'true'], {
      isTTY: true,
    });
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/set\s+setup 1\/2\s+0\s+\d+\.\d s/);
    expect(stdout).toMatch(/set\s+closed\s+0\s+/);
  });

  it('fits the table to the terminal: lines cut to its width, more lanes than rows counted on one line, redrawn on resize', async () => {
    repo = createTempRepo();
    let size = { columns: 60, rows: 5 };
    const resizes: Array<() => void> = [];
    const running = runLanevisor(
      [
        'run',
        '--repo',
        repo.path,
        '--lanes',
        '5',
        '--',
        'bash',
        '-c',
        'sleep 1; echo a-rather-long-line-of-output-that-will-not-fit-the-terminal',
      ],
      {
        isTTY: true,
        terminalSize: () => size,
        onResize: (listener) => {
          resizes.push(listener);
          return () => resizes.splice(resizes.indexOf(listener), 1);
        },
      },
    );
    await waitUntil(() => resizes.length > 0, 'the live table to start');
    size = { columns: 30, rows: 5 };
    for (const listener of resizes) listener();
    const { code, stdout } = await running;
    expect(code).toBe(EXIT_OK);
    const drawn = stdout
      .slice(0, stdout.lastIndexOf('LANE  ID'))
      .split(new RegExp(`${ESC}\\[\\d+A${ESC}\\[J`))
      .filter(Boolean);
    expect(drawn.length).toBeGreaterThan(2);
    for (const block of drawn) {
      const lines = block.split('\n').filter(Boolean);
      expect(lines.length).toBeLessThanOrEqual(4);
      expect(lines.at(-1)).toMatch(/^… 3 more: /);
    }
    expect(drawn.some((block) => block.split('\n').some((line) => line.length === 30 - 1))).toBe(true);
    expect(drawn.every((block) => block.split('\n').every((line) => line.length <= 60 - 1))).toBe(true);
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
