import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLanevisorError } from '../../../bus/errors.js';
import { createCorrelationId } from '../../../bus/ids.js';
import { LIFECYCLE_PAYLOAD_SCHEMAS } from '../../../bus/lifecycle.js';
import { eventEnvelopeSchema } from '../../../bus/schemas.js';
import { gitIn } from '../../support/git-repo.js';
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

const laneTopics = (f: RuntimeFixture, laneId: string) =>
  f.events.filter((e) => (e.payload as { laneId?: string }).laneId === laneId).map((e) => e.topic);

describe('a lane', () => {
  it('runs the whole cycle: create, PTYs, exec, cleanup — every event in order, nothing left behind', async () => {
    fixture = await createRuntimeFixture();
    const { rt } = fixture;
    const lane = await rt.createLane({ label: 'cycle', agent: 'agent-1' });
    expect(lane).toMatchObject({
      state: 'ready',
      label: 'cycle',
      branch: 'lane/cycle',
      baseRef: 'HEAD',
      agents: ['agent-1'],
    });
    expect(fixture.events.find((e) => e.topic === 'lane.created')?.payload).toEqual({
      laneId: lane.id,
      label: 'cycle',
      branch: 'lane/cycle',
      baseRef: 'HEAD',
      worktreePath: lane.worktreePath,
      agents: ['agent-1'],
      // No lanevisor.json, so no ports.
      port: null,
    });
    expect(existsSync(join(lane.worktreePath, 'dir1', 'file1.txt'))).toBe(true);
    expect(gitIn(lane.worktreePath, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('lane/cycle');
    const first = await lane.spawnPty(BASH_PTY);
    const second = await lane.spawnPty({ command: 'sh', args: ['-c', 'sleep 1000 & sleep 1000'] });
    expect(lane.ptys()).toEqual([first, second]);
    const result = await lane.exec(['sh', '-c', 'echo "$LANEVISOR_LANE_ID $LANEVISOR_RUNTIME_ID"; pwd; exit 3']);
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, stderr: '' });
    expect(result.stdout).toBe(`${lane.id} ${rt.id}\n${lane.worktreePath}\n`);
    expect(lane.state).toBe('ready');

    const report = await lane.cleanup();
    expect(report).toMatchObject({
      laneId: lane.id,
      branch: 'lane/cycle',
      branchKept: false,
      salvagedRef: null,
      ptysStopped: 2,
    });
    expect(lane.state).toBe('closed');
    expect([first.state, second.state]).toEqual(['stopped', 'stopped']);
    expect(rt.lanes()).toEqual([]);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);

    await settle();
    const topics = laneTopics(fixture, lane.id);
    const order = [
      'lane.created',
      'lane.worktree_provisioned',
      'lane.task_bound',
      'lane.command_started',
      'lane.command_completed',
      'lane.agent_detached',
      'lane.cleaning',
      'lane.worktree_removed',
      'lane.closed',
    ];
    const at = order.map((topic) => topics.indexOf(topic));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // PTYs stop in reverse start order, all before the worktree goes.
    const stopped = fixture.events
      .filter((e) => e.topic === 'pty.stopped')
      .map((e) => (e.payload as { ptyId: string }).ptyId);
    expect(stopped).toEqual([second.id, first.id]);
    expect(topics.lastIndexOf('pty.stopped')).toBeLessThan(topics.indexOf('lane.worktree_removed'));
    const states = fixture.events
      .filter((e) => e.topic === 'lane.state_changed' && (e.payload as { laneId: string }).laneId === lane.id)
      .map((e) => (e.payload as { to: string }).to);
    expect(states).toEqual(['provisioning', 'ready', 'running', 'ready', 'cleaning', 'closed']);
    for (const event of fixture.events) {
      eventEnvelopeSchema.parse(event);
      LIFECYCLE_PAYLOAD_SCHEMAS[event.topic as keyof typeof LIFECYCLE_PAYLOAD_SCHEMAS]?.parse(event.payload);
    }
    // createLane's events carry its correlation id; exec's and cleanup's carry their own.
    const correlationOf = (topic: string, to?: string) =>
      fixture.events.find((e) => e.topic === topic && (to === undefined || (e.payload as { to: string }).to === to))
        ?.correlationId;
    const creating = correlationOf('lane.created');
    expect(correlationOf('lane.worktree_provisioned')).toBe(creating);
    expect(correlationOf('lane.state_changed', 'provisioning')).toBe(creating);
    expect(correlationOf('lane.state_changed', 'ready')).toBe(creating);
    const executing = correlationOf('lane.command_started');
    expect(correlationOf('lane.state_changed', 'running')).toBe(executing);
    const cleaning = correlationOf('lane.cleaning');
    expect(correlationOf('lane.state_changed', 'cleaning')).toBe(cleaning);
    expect(correlationOf('lane.worktree_removed')).toBe(cleaning);
    expect(correlationOf('lane.closed')).toBe(cleaning);
    expect(new Set([creating, executing, cleaning]).size).toBe(3);
  });

  it("publishes a lane's events under the caller's correlation id", async () => {
    fixture = await createRuntimeFixture();
    const { rt } = fixture;
    const id = createCorrelationId();
    const lane = await rt.bus.withCorrelation(id, () => rt.createLane());
    await rt.bus.withCorrelation(id, () => lane.cleanup());
    await settle();
    const ofLane = fixture.events.filter((e) => (e.payload as { laneId?: string }).laneId === lane.id);
    expect(ofLane.map((e) => e.topic)).toContain('lane.closed');
    expect(ofLane.every((e) => e.correlationId === id)).toBe(true);
  });

  it('cleanup is idempotent: concurrent and later calls get the same report', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    expect(lane.branch).toBe(`lane/${lane.id}`);
    const [a, b] = await Promise.all([lane.cleanup(), lane.cleanup({ discard: true })]);
    expect(b).toBe(a);
    expect(await lane.cleanup()).toBe(a);
    await settle();
    expect(laneTopics(fixture, lane.id).filter((t) => t === 'lane.closed')).toHaveLength(1);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  });

  it('cleanup during provisioning waits for it, then cleans what exists; createLane rejects', async () => {
    fixture = await createRuntimeFixture({}, 500);
    const creating = fixture.rt.createLane({ label: 'early' });
    const lane = fixture.rt.lanes()[0];
    expect(lane?.state).toBe('provisioning');
    const report = await lane?.cleanup();
    expect(report?.branchKept).toBe(false);
    await expect(creating).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(lane?.state).toBe('closed');
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  });

  it('a bad baseRef fails with INVALID_ARGUMENT and leaves nothing behind', async () => {
    fixture = await createRuntimeFixture();
    const error = await fixture.rt.createLane({ label: 'bad-base', baseRef: 'no-such-ref' }).catch((e: unknown) => e);
    expect(isLanevisorError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/no-such-ref/);
    await settle();
    expect(fixture.topics((e) => e.topic.startsWith('lane.'))).toContain('lane.failed');
    expect(fixture.events.find((e) => e.topic === 'lane.failed')?.payload).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(fixture.rt.lanes()).toEqual([]);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  });

  it('rejects unsafe labels with INVALID_ARGUMENT, never rewriting them, before touching anything', async () => {
    fixture = await createRuntimeFixture();
    const attacks = [
      '../x',
      'a b',
      '-rf',
      ';rm',
      '',
      'x'.repeat(300),
      'ünï',
      'a..b',
      'x.lock',
      'a.',
      '.hidden',
      'a/b',
      'a\nb',
      42,
    ];
    for (const label of attacks) {
      const error = await fixture.rt.createLane({ label: label as string }).catch((e: unknown) => e);
      expect(isLanevisorError(error, 'INVALID_ARGUMENT'), JSON.stringify(label)).toBe(true);
    }
    expect(fixture.rt.lanes()).toEqual([]);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
    expect((await fixture.rt.createLane({ label: 'Fine_label-1.2' })).branch).toBe('lane/Fine_label-1.2');
  });

  it('a label in use, or a branch that exists, is ALREADY_EXISTS and the existing branch is left alone', async () => {
    fixture = await createRuntimeFixture();
    await fixture.rt.createLane({ label: 'taken' });
    await expect(fixture.rt.createLane({ label: 'taken' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    gitIn(fixture.repo.path, 'branch', 'lane/preexisting');
    const sha = gitIn(fixture.repo.path, 'rev-parse', 'lane/preexisting');
    await expect(fixture.rt.createLane({ label: 'preexisting' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(gitIn(fixture.repo.path, 'rev-parse', 'lane/preexisting')).toBe(sha);
    expect(fixture.rt.lanes()).toHaveLength(1);
  });

  it('salvages uncommitted and untracked work to a ref that holds it, unless discarding', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane({ label: 'dirty' });
    writeFileSync(join(lane.worktreePath, 'dir1', 'file1.txt'), 'edited by an agent\n');
    writeFileSync(join(lane.worktreePath, 'notes.md'), 'untracked notes\n');
    const report = await lane.cleanup();
    expect(report.salvagedRef).toBe(`refs/lanevisor/salvage/${lane.id}`);
    const ref = report.salvagedRef as string;
    expect(gitIn(fixture.repo.path, 'show', `${ref}:dir1/file1.txt`)).toBe('edited by an agent');
    expect(gitIn(fixture.repo.path, 'show', `${ref}:notes.md`)).toBe('untracked notes');
    expect(gitIn(fixture.repo.path, 'rev-parse', `${ref}^`)).toBe(gitIn(fixture.repo.path, 'rev-parse', 'HEAD'));
    expect(existsSync(lane.worktreePath)).toBe(false);

    const thrown = await fixture.rt.createLane({ label: 'thrown' });
    writeFileSync(join(thrown.worktreePath, 'scratch.txt'), 'not wanted\n');
    expect((await thrown.cleanup({ discard: true })).salvagedRef).toBeNull();
  });

  it('keeps a branch holding commits the base does not (and says so), deletes it with discard', async () => {
    fixture = await createRuntimeFixture();
    const kept = await fixture.rt.createLane({ label: 'work' });
    writeFileSync(join(kept.worktreePath, 'feature.txt'), 'feature\n');
    await kept.exec(['git', 'add', 'feature.txt']);
    await kept.exec(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'feature']);
    const report = await kept.cleanup();
    expect(report.branchKept).toBe(true);
    expect(gitIn(fixture.repo.path, 'show', 'lane/work:feature.txt')).toBe('feature');
    await settle();
    expect(fixture.events.find((e) => e.topic === 'lane.branch_kept')?.payload).toMatchObject({
      branch: 'lane/work',
      commits: 1,
      reason: 'commits',
    });
    // Kept means handed over: lanevisor's marker goes, so nothing of lanevisor's deletes it later.
    expect(gitIn(fixture.repo.path, 'for-each-ref', 'refs/lanevisor/branches/')).toBe('');

    const dropped = await fixture.rt.createLane({ label: 'drop' });
    writeFileSync(join(dropped.worktreePath, 'x.txt'), 'x\n');
    await dropped.exec(['git', 'add', 'x.txt']);
    await dropped.exec(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'x']);
    expect((await dropped.cleanup({ discard: true })).branchKept).toBe(false);
    expect(gitIn(fixture.repo.path, 'branch', '--list', 'lane/drop')).toBe('');

    // A branch the agent pushed (an upstream now points at it) is the user's too, even when discarding.
    const pushed = await fixture.rt.createLane({ label: 'pushed' });
    await pushed.exec(['git', 'config', 'branch.lane/pushed.remote', '.']);
    await pushed.exec(['git', 'config', 'branch.lane/pushed.merge', 'refs/heads/main']);
    expect((await pushed.cleanup({ discard: true })).branchKept).toBe(true);
    expect(gitIn(fixture.repo.path, 'branch', '--list', 'lane/pushed')).toContain('lane/pushed');
    await settle();
    expect(fixture.events.filter((e) => e.topic === 'lane.branch_kept').map((e) => e.payload)).toContainEqual(
      expect.objectContaining({ branch: 'lane/pushed', reason: 'upstream' }),
    );
  });

  it('refuses the lane past maxLanes with CAPACITY', async () => {
    fixture = await createRuntimeFixture({ maxLanes: 2 });
    await fixture.rt.createLane();
    await fixture.rt.createLane();
    await expect(fixture.rt.createLane()).rejects.toMatchObject({ code: 'CAPACITY' });
  });

  it('validates runtime and createLane options', async () => {
    fixture = await createRuntimeFixture();
    const { createRuntime } = await import('../../../supervision/runtime/runtime.js');
    await expect(createRuntime({ repo: '/nonexistent' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createRuntime({ repo: fixture.repo.base })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createRuntime({ repo: fixture.repo.path, maxLanes: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(createRuntime({ repo: fixture.repo.path, bus: {} as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(fixture.rt.createLane({ baseRef: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(fixture.rt.createLane({ bogus: 1 } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
