import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, livePidsTagged } from '../../support/proc-scan.js';
import { createRuntimeFixture, type RuntimeFixture } from '../../support/runtime-fixture.js';
import { settle, waitUntil } from '../../support/wait.js';

let fixture: RuntimeFixture;
afterEach(async () => {
  await fixture?.dispose();
});

describe('lane.exec', () => {
  it('returns a non-zero exit as a result, and rejects a missing binary with SPAWN_ERROR', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    expect(await lane.exec(['sh', '-c', 'echo out; echo err >&2; exit 7'], { env: { EXTRA: '1' } })).toMatchObject({
      exitCode: 7,
      signal: null,
      stdout: 'out\n',
      stderr: 'err\n',
      timedOut: false,
    });
    await expect(lane.exec(['no-such-binary-xyz'])).rejects.toMatchObject({ code: 'SPAWN_ERROR' });
    await expect(lane.exec([])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(lane.exec(['true'], { timeoutMs: -5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(lane.state).toBe('ready');
  });

  it('kills the whole process tree on timeout and says timedOut', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    const started = Date.now();
    const result = await lane.exec(['sh', '-c', 'sleep 300 & setsid sleep 301 & echo started; wait'], {
      timeoutMs: 300,
    });
    expect(result.timedOut).toBe(true);
    expect(result.stdout).toBe('started\n');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(livePidsTagged('LANEVISOR_LANE_ID', lane.id)).toEqual([]);
    await settle();
    expect(fixture.events.find((e) => e.topic === 'lane.command_completed')?.payload).toMatchObject({ timedOut: true });
  });

  it('queues a second exec on an unshared lane, and runs them side by side on a shared one', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    const script = ['sh', '-c', 'date +%s%N; sleep 0.3; date +%s%N'];
    const spans = async () => {
      const results = await Promise.all([lane.exec(script), lane.exec(script)]);
      return results.map((r) =>
        r.stdout
          .trim()
          .split('\n')
          .map((n) => Number(n) / 1e6),
      ) as [number, number][];
    };
    const [a, b] = (await spans()) as [[number, number], [number, number]];
    expect(b[0]).toBeGreaterThanOrEqual(a[1] - 1); // the second began after the first ended
    await lane.share();
    const [c, d] = (await spans()) as [[number, number], [number, number]];
    expect(d[0]).toBeLessThan(c[1]); // overlapping
    expect(lane.state).toBe('shared');
  });

  it('is running meanwhile and returns to the state it came from', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    const running = lane.exec(['sleep', '0.2']);
    await waitUntil(() => lane.state === 'running', 'running');
    await running;
    expect(lane.state).toBe('ready');
    await lane.share();
    const again = lane.exec(['sleep', '0.2']);
    await waitUntil(() => lane.state === 'running', 'running again');
    await again;
    expect(lane.state).toBe('shared');
  });

  it('is refused on a blocked, cleaning or closed lane with INVALID_STATE; a running one is stopped by cleanup', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    await lane.block('waiting for review');
    expect(lane.state).toBe('blocked');
    await expect(lane.exec(['true'])).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await lane.unblock();
    expect(lane.state).toBe('ready');
    const long = lane.exec(['sleep', '300']);
    await waitUntil(() => lane.state === 'running', 'running');
    const pid = livePidsTagged('LANEVISOR_LANE_ID', lane.id)[0] as number;
    const cleaning = lane.cleanup();
    await expect(lane.exec(['true'])).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await long).signal).toBe('SIGTERM');
    await cleaning;
    expect(isAlive(pid)).toBe(false);
    await expect(lane.exec(['true'])).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });
});

describe('sharing', () => {
  it('holds one agent until shared; the last detach of a shared lane returns it to ready', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane({ agent: 'alice' });
    await expect(lane.attach('bob')).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringMatching(/share the lane first/),
    });
    await lane.attach('alice'); // already attached: nothing to do
    expect(lane.shared).toBe(false);
    await lane.share();
    expect(lane.state).toBe('shared');
    expect(lane.shared).toBe(true);
    await lane.attach('bob');
    expect(lane.agents).toEqual(['alice', 'bob']);
    await expect(lane.detach('carol')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(lane.attach('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await lane.detach('alice');
    expect(lane.state).toBe('shared');
    await lane.detach('bob');
    expect(lane.state).toBe('ready');
    expect(lane.shared).toBe(false);
    expect(lane.agents).toEqual([]);
    await settle();
    expect(fixture.topics((e) => e.topic.startsWith('lane.agent') || e.topic === 'lane.shared')).toEqual([
      'lane.shared',
      'lane.agent_attached',
      'lane.agent_detached',
      'lane.agent_detached',
    ]);
  });

  it('comes back shared with its agents in the next runtime, also from a record written before `shared` was kept', async () => {
    fixture = await createRuntimeFixture();
    const shared = await fixture.rt.createLane({ agent: 'alice' });
    await shared.share();
    await shared.attach('bob');
    const older = await fixture.rt.createLane({ agent: 'carol' });
    await older.share();
    await older.attach('dave');
    const single = await fixture.rt.createLane({ agent: 'erin' });
    const recordOf = (laneId: string) => join(fixture.rt.stateDir, 'lanes', `${laneId}.json`);
    expect(JSON.parse(readFileSync(recordOf(shared.id), 'utf8'))).toMatchObject({ shared: true });
    await fixture.rt.shutdown();
    // As an earlier version wrote them: no `shared`.
    for (const lane of [older, single]) {
      const { shared: _, ...record } = JSON.parse(readFileSync(recordOf(lane.id), 'utf8'));
      writeFileSync(recordOf(lane.id), JSON.stringify(record));
    }
    const sharedBefore = fixture.topics((e) => e.topic === 'lane.shared').length;

    const next = await fixture.restart();
    // Plain values: a failing match on the handle itself (private fields behind its getters)
    // reports a TypeError instead of the difference.
    const sharingOf = (laneId: string) => {
      const lane = next.getLane(laneId);
      return lane && { state: lane.state, shared: lane.shared, agents: [...lane.agents] };
    };
    expect(sharingOf(shared.id)).toEqual({ state: 'shared', shared: true, agents: ['alice', 'bob'] });
    expect(sharingOf(older.id)).toEqual({ state: 'shared', shared: true, agents: ['carol', 'dave'] });
    expect(sharingOf(single.id)).toEqual({ state: 'ready', shared: false, agents: ['erin'] });
    // A third agent may join the resumed shared lane, none the unshared one.
    await next.getLane(shared.id)?.attach('frank');
    await expect(next.getLane(single.id)?.attach('frank')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await settle();
    // Resuming shares nothing anew.
    expect(fixture.topics((e) => e.topic === 'lane.shared')).toHaveLength(sharedBefore);

    // The last one leaving unshares it, in the record too.
    const resumed = next.getLane(shared.id);
    for (const agent of ['alice', 'bob', 'frank']) await resumed?.detach(agent);
    expect(sharingOf(shared.id)).toEqual({ state: 'ready', shared: false, agents: [] });
    expect(JSON.parse(readFileSync(recordOf(shared.id), 'utf8'))).toMatchObject({ shared: false, agents: [] });
  });

  it('cleanup of a shared lane detaches its agents first, one event each', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane({ agent: 'alice' });
    await lane.share();
    await lane.attach('bob');
    await lane.cleanup();
    await settle();
    const detached = fixture.events.filter((e) => e.topic === 'lane.agent_detached').map((e) => e.payload);
    expect(detached).toEqual([
      expect.objectContaining({ agentId: 'alice', reason: 'cleanup' }),
      expect.objectContaining({ agentId: 'bob', reason: 'cleanup' }),
    ]);
    const topics = fixture.topics();
    expect(topics.lastIndexOf('lane.agent_detached')).toBeLessThan(topics.indexOf('lane.worktree_removed'));
  });

  it('blocks with a reason (published) and unblocks to where it was', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    await lane.share();
    await lane.block('needs a human');
    expect(lane.state).toBe('blocked');
    expect(lane.blockReason).toBe('needs a human');
    // Blocked says the state; shared is still what it was, and comes back with the unblock.
    expect(lane.shared).toBe(true);
    await expect(lane.block('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await lane.unblock();
    expect(lane.state).toBe('shared');
    expect(lane.blockReason).toBeNull();
    // A lane cleaned up while blocked is no longer blocked, nor says why.
    await lane.block('cleaned while blocked');
    await lane.cleanup();
    expect(lane.state).toBe('closed');
    expect(lane.blockReason).toBeNull();
    await settle();
    expect(
      fixture.events.find((e) => e.topic === 'lane.state_changed' && (e.payload as { to: string }).to === 'blocked')
        ?.payload,
    ).toMatchObject({
      reason: 'needs a human',
    });
  });
});
