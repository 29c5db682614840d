import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitAll } from '../../../actors/git/commit.js';
import { gitIn } from '../../support/git-repo.js';
import { createLaneRepo, type LaneRepo, statusOf, worktreeState, write } from './lane-repo.js';

let lanes: LaneRepo | undefined;
afterEach(() => {
  lanes?.temp.dispose();
  lanes = undefined;
});

describe('commitAll', () => {
  it('commits staged, unstaged, untracked and deleted files with the message as given, and nothing ignored', async () => {
    lanes = await createLaneRepo();
    const lane = lanes.addLane('a');
    const before = gitIn(lane, 'rev-parse', 'HEAD');
    write(lane, 'dir0/file0.txt', 'staged\n');
    gitIn(lane, 'add', 'dir0/file0.txt');
    write(lane, 'dir1/file1.txt', 'unstaged\n');
    write(lane, 'new/untracked.txt', 'untracked\n');
    rmSync(join(lane, 'dir2/file2.txt'));
    write(lane, 'build.log', 'ignored\n');
    const message = '-not an option\n\n# not a comment either\n';

    const { commit } = await commitAll(lanes.repository, lane, message);

    expect(commit).toBe(gitIn(lane, 'rev-parse', 'HEAD'));
    expect(gitIn(lane, 'rev-parse', 'HEAD^')).toBe(before);
    expect(gitIn(lane, 'symbolic-ref', 'HEAD')).toBe('refs/heads/lane/a');
    expect(gitIn(lane, 'log', '-1', '--format=%B')).toBe(message.trim());
    expect(gitIn(lane, 'diff-tree', '-r', '--name-status', '--no-commit-id', 'HEAD').split('\n').sort()).toEqual(
      ['D\tdir2/file2.txt', 'M\tdir0/file0.txt', 'M\tdir1/file1.txt', 'A\tnew/untracked.txt'].sort(),
    );
    expect(statusOf(lane)).toBe('');
    expect(existsSync(join(lane, 'build.log'))).toBe(true);
  });

  it('returns null and makes no commit when there is nothing to commit', async () => {
    lanes = await createLaneRepo();
    const lane = lanes.addLane('a');
    write(lane, 'only.log', 'ignored\n');
    const before = worktreeState(lane);
    expect(await commitAll(lanes.repository, lane, 'nothing')).toEqual({ commit: null });
    expect(worktreeState(lane).head).toBe(before.head);
    expect(gitIn(lane, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('refuses an empty message before staging anything', async () => {
    lanes = await createLaneRepo();
    const lane = lanes.addLane('a');
    write(lane, 'dir0/file0.txt', 'changed\n');
    const before = worktreeState(lane);
    for (const message of ['', '  \n\t']) {
      await expect(commitAll(lanes.repository, lane, message)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(worktreeState(lane)).toEqual(before);
  });

  it("runs the user's hooks: a refusing pre-commit hook is a GIT_ERROR with its words, and no commit", async () => {
    lanes = await createLaneRepo();
    const lane = lanes.addLane('a');
    const hooks = join(lanes.temp.base, 'hooks');
    mkdirSync(hooks);
    writeFileSync(join(hooks, 'pre-commit'), '#!/bin/sh\necho "lint says no" >&2\nexit 1\n');
    chmodSync(join(hooks, 'pre-commit'), 0o755);
    gitIn(lanes.main, 'config', 'core.hooksPath', hooks);
    write(lane, 'dir0/file0.txt', 'changed\n');
    const head = gitIn(lane, 'rev-parse', 'HEAD');

    const error = await commitAll(lanes.repository, lane, 'try').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GIT_ERROR' });
    expect(String((error as Error).message)).toContain('lint says no');
    expect(gitIn(lane, 'rev-parse', 'HEAD')).toBe(head);

    // The hook lets it through: the same call commits.
    writeFileSync(join(hooks, 'pre-commit'), '#!/bin/sh\nexit 0\n');
    const { commit } = await commitAll(lanes.repository, lane, 'try again');
    expect(commit).not.toBeNull();
    expect(gitIn(lane, 'rev-parse', 'HEAD')).toBe(commit);
  });
});
