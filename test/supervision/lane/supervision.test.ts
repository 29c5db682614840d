import { afterEach, describe, expect, it } from 'vitest';
import type { Pty } from '../../../supervision/pty/types.js';
import { recordOutput } from '../../support/pty-fixture.js';
import { BASH_PTY, createRuntimeFixture, type RuntimeFixture } from '../../support/runtime-fixture.js';
import { settle, waitUntil } from '../../support/wait.js';

let fixture: RuntimeFixture;
afterEach(async () => {
  await fixture?.dispose();
});

/** A PTY whose child prints its pid, waits for a line, and exits with the code it reads. */
const CHILD = { command: 'sh', args: ['-c', 'echo "pid=$$"; read code; exit "$code"'] };

async function crash(pty: Pty, code = 3): Promise<number> {
  const pid = pty.pid;
  await waitUntil(() => pty.scrollback().includes(`pid=${pid}`), 'the child to be ready');
  pty.write(`${code}\r`);
  await waitUntil(() => pty.pid !== pid || pty.state === 'errored' || pty.state === 'stopped', 'the child to end');
  return pid;
}

const restartsOf = (f: RuntimeFixture, pty: Pty) =>
  f.events.filter((e) => e.topic === 'supervisor.restarted' && (e.payload as { ptyId: string }).ptyId === pty.id);

describe('the lane supervises its PTYs', () => {
  it('restarts a permanent PTY after any exit: same object and id, new pid, restarts counted', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    const pty = await lane.spawnPty({ ...CHILD, restart: 'permanent' });
    const firstPid = await crash(pty, 0);
    await waitUntil(() => pty.pid !== firstPid && pty.state === 'active', 'the restarted child');
    expect(pty.restarts).toBe(1);
    expect(lane.ptys()).toEqual([pty]);
    await settle();
    expect(restartsOf(fixture, pty).map((e) => e.payload)).toEqual([
      expect.objectContaining({ laneId: lane.id, ptyId: pty.id, generation: 2, restarts: 1 }),
    ]);
    // The output of the new generation flows into the same handle.
    await waitUntil(() => pty.scrollback().includes(`pid=${pty.pid}`), 'the new generation output');
    // A requested stop is not restarted.
    const result = await pty.terminate({ graceMs: 500 });
    expect(result.escalated).toBe(false);
    await settle();
    expect(pty.state).toBe('stopped');
    expect(restartsOf(fixture, pty)).toHaveLength(1);
  });

  it('restarts a transient PTY only after an abnormal exit, and never a temporary one', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    const transient = await lane.spawnPty({ ...CHILD, restart: 'transient' });
    const crashed = await crash(transient, 5);
    await waitUntil(() => transient.pid !== crashed && transient.state === 'active', 'the transient restart');
    await crash(transient, 0);
    expect(await transient.exited).toEqual({ exitCode: 0, signal: null });
    expect(transient.restarts).toBe(1);

    const temporary = await lane.spawnPty({ ...CHILD });
    expect(temporary.restart).toBe('temporary');
    await crash(temporary, 9);
    expect(await temporary.exited).toEqual({ exitCode: 9, signal: null });
    expect(temporary.restarts).toBe(0);
    expect(lane.state).toBe('ready');
  });

  it('escalates past the restart intensity: the lane is blocked, siblings and other lanes are untouched', async () => {
    fixture = await createRuntimeFixture({ restartIntensity: { maxRestarts: 2, periodMs: 10_000 } });
    const lane = await fixture.rt.createLane({ label: 'troubled' });
    const other = await fixture.rt.createLane({ label: 'bystander' });
    const sibling = await lane.spawnPty(BASH_PTY);
    const neighbour = await other.spawnPty(BASH_PTY);
    const flaky = await lane.spawnPty({ command: 'sh', args: ['-c', 'exit 1'], restart: 'permanent' });
    await flaky.exited;
    await settle();
    expect(flaky.restarts).toBe(2);
    expect(lane.state).toBe('blocked');
    const escalated = fixture.events.find((e) => e.topic === 'supervisor.escalated')?.payload;
    expect(escalated).toMatchObject({
      laneId: lane.id,
      ptyId: flaky.id,
      reason: expect.stringMatching(/restarted 2 times/),
    });
    expect(
      fixture.events.find((e) => e.topic === 'lane.state_changed' && (e.payload as { to: string }).to === 'blocked')
        ?.payload,
    ).toMatchObject({ laneId: lane.id, reason: expect.stringContaining(flaky.id) });
    expect([sibling.state, neighbour.state, other.state]).toEqual(['active', 'active', 'ready']);
    const out = recordOutput(neighbour);
    neighbour.write('echo unaffected\r');
    await out.waitFor('unaffected\r\n');
    await lane.unblock();
    expect(lane.state).toBe('ready');
  });

  it('terminate during the backoff cancels the restart', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    const pty = await lane.spawnPty({ command: 'sh', args: ['-c', 'exit 1'], restart: 'permanent' });
    await waitUntil(() => pty.state === 'errored', 'the first crash');
    const result = await pty.terminate();
    expect(result.exitCode).toBe(1);
    await settle();
    const restarted = restartsOf(fixture, pty).length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(restartsOf(fixture, pty)).toHaveLength(restarted);
    expect(lane.ptys()).toEqual([]);
  });

  it('a failed spawn in a lane is SPAWN_ERROR and the lane can spawn again', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    await expect(lane.spawnPty({ command: 'no-such-command-zz' })).rejects.toMatchObject({ code: 'SPAWN_ERROR' });
    expect((await lane.spawnPty(BASH_PTY)).state).toBe('active');
    expect(lane.state).toBe('ready');
  });

  it('PTYs of a lane run in its worktree with its tags', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    const pty = await lane.spawnPty(BASH_PTY);
    const out = recordOutput(pty);
    pty.write('echo "$PWD|$LANEVISOR_LANE_ID|$LANEVISOR_RUNTIME_ID"\r');
    await out.waitFor(`${lane.worktreePath}|${lane.id}|${fixture.rt.id}`);
    expect(lane.ptys()[0]?.laneId).toBe(lane.id);
  });

  it('a PTY that ends by itself during cleanup costs its own time, not the grace', async () => {
    fixture = await createRuntimeFixture({ pty: { terminateGraceMs: 20_000 } });
    const lane = await fixture.rt.createLane();
    // Ignores SIGTERM and SIGHUP (so does its sleep), and ends on its own half a second later.
    const stubborn = await lane.spawnPty({ command: 'sh', args: ['-c', 'trap "" TERM HUP; echo up; sleep 0.5'] });
    await waitUntil(() => stubborn.scrollback().includes('up'), 'the child to start');
    const report = await lane.cleanup();
    expect(report.ptysStopped).toBe(1);
    expect(report.durationMs).toBeLessThan(10_000);
    await settle();
    const stopped = fixture.events.find((e) => e.topic === 'pty.stopped');
    expect(stopped?.payload).toMatchObject({ ptyId: stubborn.id, escalated: false });
  });
});
