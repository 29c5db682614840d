import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskBackend } from '../../../actors/task/task-backend.js';
import { isLanevisorError, LanevisorError } from '../../../bus/errors.js';
import { gitIn } from '../../support/git-repo.js';
import { killCheckoutMidway } from '../../support/kill-checkout.js';
import { createRuntimeFixture, leftovers, NOTHING_LEFT, type RuntimeFixture } from '../../support/runtime-fixture.js';
import { settle } from '../../support/wait.js';

let fixture: RuntimeFixture;
afterEach(async () => {
  await fixture?.dispose();
});

describe('provisioning that fails part-way', () => {
  it('a checkout killed mid-way is GIT_ERROR and leaves no worktree, branch, directory or record', async () => {
    fixture = await createRuntimeFixture({}, 6_000);
    const { rt } = fixture;
    let settled = false;
    const creating = rt
      .createLane({ label: 'killed' })
      .then(
        () => undefined,
        (error: unknown) => error,
      )
      .finally(() => {
        settled = true;
      });
    const lane = rt.lanes()[0];
    expect(lane?.state).toBe('provisioning');
    const worktreePath = lane?.worktreePath as string;
    const killed = await killCheckoutMidway(worktreePath, 'dir0', () => settled);
    const error = await creating;
    expect(killed.length).toBeGreaterThan(0);
    expect(isLanevisorError(error, 'GIT_ERROR')).toBe(true);
    await settle();
    expect(fixture.events.find((e) => e.topic === 'lane.failed')?.payload).toMatchObject({
      laneId: lane?.id,
      code: 'GIT_ERROR',
    });
    expect(lane?.state).toBe('closed');
    expect(rt.lanes()).toEqual([]);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
    // Nothing of anybody's was in it, so nothing was salvaged.
    expect(gitIn(fixture.repo.path, 'for-each-ref', 'refs/lanevisor/')).toBe('');
  }, 60_000);

  it('when rolling back a failed provisioning stalls too, createLane still rejects; a later cleanup finishes it', async () => {
    let aside = '';
    let worktree = '';
    const failingTask: TaskBackend = {
      name: 'failing',
      // Before failing, puts a symlink to a directory outside the worktree root where the worktree
      // was: the rollback refuses to touch it (and stalls) rather than follow it.
      async bind(lane) {
        worktree = lane.worktreePath;
        aside = `${worktree}-aside`;
        const outside = join(dirname(lane.repo), 'outside');
        mkdirSync(outside);
        writeFileSync(join(outside, 'keep.txt'), 'keep\n');
        renameSync(worktree, aside);
        symlinkSync(outside, worktree);
        throw new LanevisorError('SPAWN_ERROR', 'the task could not start');
      },
      health: async () => true,
      terminate: async () => undefined,
    };
    fixture = await createRuntimeFixture({ task: failingTask });
    const error = await fixture.rt.createLane({ label: 'stuck' }).catch((e: unknown) => e);
    expect(isLanevisorError(error, 'SPAWN_ERROR')).toBe(true);
    expect((error as Error).message).toMatch(/the task could not start; then rolling back .* failed/);
    await settle();
    const failed = fixture.events.filter((e) => e.topic === 'lane.failed');
    expect(failed.map((e) => e.payload)).toEqual([
      expect.objectContaining({ code: 'SPAWN_ERROR', message: 'the task could not start' }),
    ]);
    const [lane] = fixture.rt.lanes();
    expect(lane?.state).toBe('cleaning');

    expect(readFileSync(join(dirname(fixture.repo.path), 'outside', 'keep.txt'), 'utf8')).toBe('keep\n');
    rmSync(worktree);
    renameSync(aside, worktree);
    const report = await lane?.cleanup();
    expect(report?.branchKept).toBe(false);
    expect(lane?.state).toBe('closed');
    await settle();
    expect(fixture.events.filter((e) => e.topic === 'lane.failed')).toHaveLength(1);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  });
});
