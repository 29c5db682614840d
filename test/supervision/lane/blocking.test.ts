import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../supervision/runtime/types.js';
import { createRuntimeFixture, type RuntimeFixture } from '../../support/runtime-fixture.js';
import { settle } from '../../support/wait.js';

let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
});

const recordOf = (rt: Runtime, laneId: string) =>
  JSON.parse(readFileSync(join(rt.stateDir, 'lanes', `${laneId}.json`), 'utf8')) as { blockReason?: string | null };

/** Plain values: a failing match on a lane handle reports a TypeError instead of the difference. */
const blockOf = (rt: Runtime, laneId: string) => {
  const lane = rt.getLane(laneId);
  return lane && { state: lane.state, blockReason: lane.blockReason };
};

describe('a blocked lane in the next runtime', () => {
  it("comes back blocked when a person blocked it, with their reason; a supervisor's block does not come back", async () => {
    fixture = await createRuntimeFixture({ restartIntensity: { maxRestarts: 1, periodMs: 10_000 } });
    const { rt } = fixture;
    const review = await rt.createLane({ label: 'review' });
    await review.block('waiting for a review');
    const lifted = await rt.createLane({ label: 'lifted' });
    await lifted.block('for a moment');
    await lifted.unblock();
    const troubled = await rt.createLane({ label: 'troubled' });
    const flaky = await troubled.spawnPty({ command: 'sh', args: ['-c', 'exit 1'], restart: 'permanent' });
    await flaky.exited;
    await settle();
    expect(blockOf(rt, troubled.id)).toEqual({ state: 'blocked', blockReason: expect.stringContaining(flaky.id) });
    expect(recordOf(rt, review.id).blockReason).toBe('waiting for a review');
    expect(recordOf(rt, lifted.id).blockReason).toBeNull();
    expect(recordOf(rt, troubled.id).blockReason).toBeUndefined();
    await rt.shutdown();
    const before = fixture.events.length;

    const next = await fixture.restart();
    expect(blockOf(next, review.id)).toEqual({ state: 'blocked', blockReason: 'waiting for a review' });
    expect(blockOf(next, lifted.id)).toEqual({ state: 'ready', blockReason: null });
    // The PTY it was about ended for good with the runtime before: nothing is left to block on.
    expect(blockOf(next, troubled.id)).toEqual({ state: 'ready', blockReason: null });
    await settle();
    const blockedAgain = fixture.events
      .slice(before)
      .filter((event) => event.topic === 'lane.state_changed' && (event.payload as { to: string }).to === 'blocked');
    expect(blockedAgain.map((event) => event.payload)).toEqual([
      { laneId: review.id, from: 'new', to: 'blocked', reason: 'waiting for a review' },
    ]);

    // Unblocked in the next runtime, it stays unblocked in the one after.
    await next.getLane(review.id)?.unblock();
    expect(recordOf(next, review.id).blockReason).toBeNull();
    await next.shutdown();
    const third = await fixture.restart();
    expect(blockOf(third, review.id)).toEqual({ state: 'ready', blockReason: null });
  });
});
