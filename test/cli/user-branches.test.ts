import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../cli/program.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import type { Runtime } from '../../supervision/runtime/types.js';
import { runLanevisor } from '../support/cli.js';
import { CrashRun } from '../support/crash-harness.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.shutdown({ cleanupLanes: true });
  repo?.dispose();
});

/**
 * A repository with the user's own branches under `lane/`: one with no commits of its own (and a
 * remote configured, as in the report that found the bug), one with commits of its own, one
 * tracking a remote branch, one checked out in a worktree of the user's.
 */
function repoWithUserLaneBranches(): TempRepo {
  const made = createTempRepo();
  const git = (...args: string[]) => gitIn(made.path, ...args);
  git('remote', 'add', 'origin', join(made.base, 'upstream.git'));
  git('branch', 'lane/mine');
  git('config', 'branch.lane/mine.remote', 'origin');
  git('checkout', '-q', '-b', 'lane/release-1.0');
  writeFileSync(join(made.path, 'release.txt'), 'release notes\n');
  git('add', 'release.txt');
  git('commit', '-q', '-m', 'release');
  git('checkout', '-q', 'main');
  git('branch', 'lane/tracking');
  git('config', 'branch.lane/tracking.remote', 'origin');
  git('config', 'branch.lane/tracking.merge', 'refs/heads/tracking');
  git('worktree', 'add', '-q', '-b', 'lane/checked-out', join(made.base, 'my-checkout'));
  return made;
}

/** Everything of the user's that must survive: every ref outside lanevisor's own, config, worktrees. */
function userState() {
  return {
    refs: gitIn(
      repo.path,
      'for-each-ref',
      '--format=%(refname) %(objectname) %(upstream)',
      'refs/heads/',
      'refs/remotes/',
    ),
    config: gitIn(repo.path, 'config', '--list', '--local'),
    worktrees: gitIn(repo.path, 'worktree', 'list', '--porcelain')
      .split('\n')
      .filter((line) => line.startsWith('worktree ')),
  };
}

/** The command with `--repo` first, so it never lands after a `--`. */
const cli = (command: string, ...argv: string[]) => runLanevisor([command, '--repo', repo.path, ...argv]);

describe("the user's own lane/ branches", () => {
  it('survive run, exec, clean and reconcile, and the dry run names what the run does', async () => {
    repo = repoWithUserLaneBranches();
    const before = userState();

    expect((await cli('run', '--lanes', '1', '--', 'true')).code).toBe(EXIT_OK);
    expect(userState()).toEqual(before);
    // A lane whose label needs a branch that exists is refused, and that branch is untouched.
    const taken = await cli('run', '--label', 'mine', '--', 'true');
    expect(taken.code).not.toBe(EXIT_OK);
    expect(taken.stderr).toContain('branch lane/mine already exists');
    expect(userState()).toEqual(before);

    expect((await cli('run', '--label', 'kept', '--keep', '--', 'true')).code).toBe(EXIT_OK);
    expect((await cli('exec', 'kept', '--', 'git', 'status')).code).toBe(EXIT_OK);
    const dry = JSON.parse((await cli('reconcile', '--dry-run', '--json')).stdout);
    const real = JSON.parse((await cli('reconcile', '--json')).stdout);
    expect(dry.details.branches).toEqual({ removed: [], kept: [] });
    expect(real.details.branches).toEqual(dry.details.branches);
    expect(real.branches).toEqual(dry.branches);
    expect((await cli('clean', 'kept')).code).toBe(EXIT_OK);
    expect((await cli('clean', '--all')).code).toBe(EXIT_OK);
    expect(userState()).toEqual(before);
    expect(gitIn(repo.path, 'for-each-ref', 'refs/lanevisor/branches/')).toBe('');
    gitIn(repo.path, 'worktree', 'remove', '--force', join(repo.base, 'my-checkout'));
  });

  it('survive the start of a runtime that recovers from a crash', async () => {
    repo = repoWithUserLaneBranches();
    const before = userState();
    const crashed = new CrashRun(repo.path, [
      { type: 'create', label: 'ours' },
      { type: 'pty', label: 'ours', kind: 'plain' },
    ]);
    await crashed.opDone(1);
    await crashed.kill();

    const next = await createRuntime({ repo: repo.path });
    runtimes.push(next);
    expect(next.reconciliation.lanes.resumed).toBe(1);
    expect(next.reconciliation.details.branches).toEqual({ removed: [], kept: [] });
    // While our lane lives, its branch is there beside every one of the user's, unchanged.
    const refsNow = userState().refs.split('\n');
    expect(refsNow).toEqual(expect.arrayContaining(before.refs.split('\n')));
    expect(refsNow.filter((line) => !before.refs.includes(line))).toEqual([
      expect.stringMatching(/^refs\/heads\/lane\/ours /),
    ]);
    const [lane] = next.lanes();
    await lane?.cleanup();
    expect(userState()).toEqual(before);
    await next.shutdown();
    gitIn(repo.path, 'worktree', 'remove', '--force', join(repo.base, 'my-checkout'));
  });
});
