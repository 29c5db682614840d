import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitIn } from '../../support/git-repo.js';
import { livePidsTagged } from '../../support/proc-scan.js';
import {
  BASH_PTY,
  createRuntimeFixture,
  leftovers,
  NOTHING_LEFT,
  type RuntimeFixture,
} from '../../support/runtime-fixture.js';
import { settle } from '../../support/wait.js';

let fixture: RuntimeFixture;
afterEach(async () => {
  await fixture?.dispose();
});

describe('a runtime', () => {
  it('creates 50 lanes concurrently, runs a command in each, cleans them concurrently: no failure, nothing left', async () => {
    fixture = await createRuntimeFixture({ maxLanes: 50 }, 200);
    const { rt } = fixture;
    const created = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => rt.createLane({ label: `many-${i}` })),
    );
    expect(created.filter((r) => r.status === 'rejected')).toEqual([]);
    const lanes = created.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof rt.createLane>>>).value);
    await expect(rt.createLane({ label: 'one-too-many' })).rejects.toMatchObject({ code: 'CAPACITY' });
    expect(new Set(lanes.map((l) => l.worktreePath)).size).toBe(50);
    expect(gitIn(fixture.repo.path, 'worktree', 'list').split('\n')).toHaveLength(51);
    const results = await Promise.all(lanes.map((lane) => lane.exec(['git', 'rev-parse', '--abbrev-ref', 'HEAD'])));
    expect(results.map((r) => r.stdout.trim())).toEqual(lanes.map((l) => l.branch));
    const cleaned = await Promise.allSettled(lanes.map((lane) => lane.cleanup()));
    expect(cleaned.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(rt.lanes()).toEqual([]);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  }, 120_000);

  it('shutdown keeps lanes; a new runtime brings them back ready, agents included, and can clean them', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane({ label: 'kept', agent: 'alice' });
    await lane.spawnPty(BASH_PTY);
    writeFileSync(join(lane.worktreePath, 'work-in-progress.txt'), 'wip\n');
    await fixture.rt.shutdown();
    expect(livePidsTagged('LANEVISOR_LANE_ID', lane.id)).toEqual([]);
    expect(readFileSync(join(lane.worktreePath, 'work-in-progress.txt'), 'utf8')).toBe('wip\n');
    await expect(fixture.rt.createLane()).rejects.toMatchObject({ code: 'INVALID_STATE' });

    const next = await fixture.restart();
    expect(next.id).not.toBe(fixture.rt.id);
    expect(next.reconciliation.lanes).toEqual({ resumed: 1, cleaned: 0, salvaged: 0, stalled: 0 });
    const back = next.getLane(lane.id);
    expect(back).toMatchObject({
      state: 'ready',
      label: 'kept',
      branch: 'lane/kept',
      worktreePath: lane.worktreePath,
      agents: ['alice'],
    });
    expect(back?.ptys()).toEqual([]); // PTYs do not come back
    await settle();
    expect(
      fixture.events.some((e) => e.topic === 'lane.resumed' && (e.payload as { laneId: string }).laneId === lane.id),
    ).toBe(true);
    expect((await back?.spawnPty(BASH_PTY))?.state).toBe('active');
    const report = await back?.cleanup();
    expect(report?.salvagedRef).toBe(`refs/lanevisor/salvage/${lane.id}`);
    expect(leftovers(fixture, next)).toEqual(NOTHING_LEFT);
  });

  it('completes a cleanup that was interrupted half way (record says cleaning), salvaging first', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane({ label: 'interrupted' });
    writeFileSync(join(lane.worktreePath, 'unsaved.txt'), 'unsaved\n');
    await fixture.rt.shutdown();
    const recordFile = join(fixture.rt.stateDir, 'lanes', `${lane.id}.json`);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(recordFile, JSON.stringify({ ...record, phase: 'cleaning' }));

    const next = await fixture.restart();
    expect(next.lanes()).toEqual([]);
    expect(next.reconciliation).toMatchObject({
      lanes: { resumed: 0, cleaned: 1, salvaged: 1 },
      salvagedRefs: [`refs/lanevisor/salvage/${lane.id}`],
    });
    expect(gitIn(fixture.repo.path, 'show', `refs/lanevisor/salvage/${lane.id}:unsaved.txt`)).toBe('unsaved');
    expect(leftovers(fixture, next)).toEqual(NOTHING_LEFT);
  });

  it('reports a record it cannot read and leaves it alone', async () => {
    fixture = await createRuntimeFixture();
    await fixture.rt.shutdown();
    const bad = join(fixture.rt.stateDir, 'lanes', 'lane_0000000000000000.json');
    writeFileSync(bad, '{ not json');
    const next = await fixture.restart();
    expect(next.reconciliation.unreadableRecords).toEqual([bad]);
    expect(readFileSync(bad, 'utf8')).toBe('{ not json');
  });
});
