import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../cli/io.js';
import { runLanevisor } from '../support/cli.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.dispose());

const cli = (...argv: string[]) => runLanevisor(argv);

describe('how the command line fails', () => {
  it('exits 2 for what the command line gets wrong, 1 for the rest, always with one line', async () => {
    repo = createTempRepo();
    const cases: Array<[string[], number, string]> = [
      [['clean', '--repo', repo.path], EXIT_USAGE, 'lanevisor: name the lanes to clean, or pass --all\n'],
      [
        ['clean', 'x', '--all', '--repo', repo.path],
        EXIT_USAGE,
        'lanevisor: name the lanes to clean, or pass --all, not both\n',
      ],
      [['run', '--repo', repo.path, '--label', 'a b', '--', 'true'], EXIT_USAGE, 'lanevisor: label "a b" must start'],
      [['prune', '--repo', repo.path], EXIT_USAGE, "required option '--older-than <age>' not specified"],
      [['prune', '--older-than', '3 days', '--repo', repo.path], EXIT_USAGE, 'expected an age such as 30m'],
      [['ls', '--repo', join(repo.base, 'nowhere')], EXIT_USAGE, 'lanevisor: repo does not exist'],
      [['exec', 'nope', '--repo', repo.path, '--', 'true'], EXIT_FAILURE, 'lanevisor: no lane "nope"; there are none'],
    ];
    for (const [argv, code, message] of cases) {
      const result = await cli(...argv);
      expect(result.code, argv.join(' ')).toBe(code);
      expect(result.stderr, argv.join(' ')).toContain(message);
      expect(result.stderr.split('\n')).toHaveLength(2);
    }
  });

  it('with --json, a failure is also one JSON object on stdout', async () => {
    repo = createTempRepo();
    const missing = await cli('exec', 'nope', '--json', '--repo', repo.path, '--', 'true');
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: { code: 'NOT_FOUND', message: 'no lane "nope"; there are none (lanevisor ls)' },
    });
    const usage = await cli('ls', '--json', '--bogus');
    expect(usage.code).toBe(EXIT_USAGE);
    expect(JSON.parse(usage.stdout)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    // A --json after `--` belongs to the command being run, not to lanevisor.
    const after = await cli('exec', 'nope', '--repo', repo.path, '--', 'echo', '--json');
    expect(after.stdout).toBe('');
  });

  it("passes git's own refusal on: a repository owned by another user, with git's advice", async () => {
    repo = createTempRepo();
    const { uid, gid } = { uid: 54_321, gid: 54_321 };
    for (const entry of ['', ...readdirSync(repo.path)]) chownSync(join(repo.path, entry), uid, gid);
    const result = await cli('ls', '--repo', repo.path);
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toBe(
      `lanevisor: git refuses the repository at ${repo.path}: it is owned by another user (dubious ownership); if you trust it: git config --global --add safe.directory ${repo.path}\n`,
    );
  });

  it('says so in words when there is nothing to clean, or the worktree root is a file', async () => {
    repo = createTempRepo();
    expect(await cli('clean', '--all', '--repo', repo.path)).toMatchObject({
      code: EXIT_OK,
      stdout: 'no lanes to clean\n',
    });
    expect((await cli('clean', '--all', '--json', '--repo', repo.path)).stdout).toBe('[]\n');
    const file = join(repo.base, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const result = await cli('run', '--repo', repo.path, '--worktree-root', file, '--', 'true');
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toBe(
      `lanevisor: cannot use ${file} as the worktree root: it (or a directory above it) is a file\n`,
    );
  });
});

describe('lanes made with other options', () => {
  it('a lane kept under another --worktree-root is cleaned without the flag', async () => {
    repo = createTempRepo();
    const elsewhere = join(repo.base, 'elsewhere');
    const kept = await cli(
      'run',
      '--repo',
      repo.path,
      '--worktree-root',
      elsewhere,
      '--label',
      'far',
      '--keep',
      '--',
      'true',
    );
    expect(kept.code).toBe(EXIT_OK);
    expect(readdirSync(elsewhere)).toHaveLength(1);
    const cleaned = await cli('clean', 'far', '--repo', repo.path);
    expect(cleaned).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(cleaned.stdout).toMatch(/^cleaned lane_\w+ in \d+ ms: branch lane\/far removed\n$/);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(gitIn(repo.path, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it("run from inside a lane's worktree makes its lanes beside the main repository's, not inside the lane", async () => {
    repo = createTempRepo();
    expect((await cli('run', '--repo', repo.path, '--label', 'outer', '--keep', '--', 'true')).code).toBe(EXIT_OK);
    const root = join(repo.base, 'repo.lanes');
    const [outer] = readdirSync(root);
    const inner = await runLanevisor(['run', '--label', 'inner', '--keep', '--', 'pwd'], {
      cwd: join(root, outer as string),
    });
    expect(inner.code).toBe(EXIT_OK);
    expect(readdirSync(root)).toHaveLength(2);
    expect(existsSync(join(root, outer as string, 'repo.lanes'))).toBe(false);
    expect(existsSync(join(root, `${outer}.lanes`))).toBe(false);
    expect((await cli('clean', '--all', '--repo', repo.path)).code).toBe(EXIT_OK);
  });
});
