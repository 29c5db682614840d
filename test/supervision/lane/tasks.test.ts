import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskBackend } from '../../../actors/task/task-backend.js';
import { createRuntimeFixture, leftovers, NOTHING_LEFT, type RuntimeFixture } from '../../support/runtime-fixture.js';
import { settle, waitUntil } from '../../support/wait.js';

let fixture: RuntimeFixture | undefined;
const restore: (() => void)[] = [];
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
  for (const undo of restore.splice(0)) undo();
});

/** Puts the par stand-in (test/fixtures/par) first on PATH and its state in a temp XDG_DATA_HOME. */
function useParStandIn(): { stateFile: string } {
  const fixtures = fileURLToPath(new URL('../../fixtures', import.meta.url));
  const dataHome = mkdtempSync(join(tmpdir(), 'lanevisor-par-'));
  const saved = { PATH: process.env.PATH, XDG_DATA_HOME: process.env.XDG_DATA_HOME };
  process.env.PATH = `${fixtures}:${process.env.PATH}`;
  process.env.XDG_DATA_HOME = dataHome;
  restore.push(() => {
    process.env.PATH = saved.PATH;
    if (saved.XDG_DATA_HOME === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = saved.XDG_DATA_HOME;
    rmSync(dataHome, { recursive: true, force: true });
  });
  return { stateFile: join(dataHome, 'par', 'state.json') };
}

describe('task binding', () => {
  it('binds the builtin task by default', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    await settle();
    expect(fixture.events.find((e) => e.topic === 'lane.task_bound')?.payload).toEqual({
      laneId: lane.id,
      backend: 'builtin',
      facts: {},
    });
  });

  it('drives par (stand-in): start on provisioning with the base SHA, facts from its state file, rm at cleanup', async () => {
    const { stateFile } = useParStandIn();
    fixture = await createRuntimeFixture({ task: 'par' });
    const lane = await fixture.rt.createLane({ label: 'par-lane' });
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, Record<string, { base: string }>>;
    const session = state[fixture.repo.path]?.['par-lane'];
    expect(session?.base).toMatch(/^[0-9a-f]{40}$/);
    await settle();
    expect(fixture.events.find((e) => e.topic === 'lane.task_bound')?.payload).toMatchObject({
      backend: 'par',
      facts: { label: 'par-lane', branch_name: 'par-lane' },
    });
    await lane.cleanup();
    const after = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(after[fixture.repo.path]).toEqual({});
  });

  it('without par installed, createLane fails with SPAWN_ERROR naming it, and leaves nothing', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/usr/bin:/bin';
    restore.push(() => {
      process.env.PATH = saved;
    });
    fixture = await createRuntimeFixture({ task: 'par' });
    const error = await fixture.rt.createLane({ label: 'no-par' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SPAWN_ERROR', message: expect.stringMatching(/"par" command/) });
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  });

  it('a task unhealthy for the stall timeout is killed and the lane blocked (task_stalled)', async () => {
    let healthy = true;
    const killed: string[] = [];
    const task: TaskBackend = {
      name: 'probe',
      bind: async () => ({ backend: 'probe', facts: {} }),
      health: async () => healthy,
      terminate: async (_binding, lane) => {
        killed.push(lane.laneId);
      },
    };
    fixture = await createRuntimeFixture({ task, taskHealth: { intervalMs: 20, stallTimeoutMs: 150 } });
    const lane = await fixture.rt.createLane();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lane.state).toBe('ready');
    healthy = false;
    await waitUntil(() => lane.state === 'blocked', 'the stall');
    expect(killed).toEqual([lane.id]);
    await settle();
    expect(fixture.topics((e) => e.topic.startsWith('lane.task_'))).toEqual([
      'lane.task_bound',
      'lane.task_stalled',
      'lane.task_killed',
    ]);
    const stalled = fixture.events.find((e) => e.topic === 'lane.task_stalled')?.payload;
    expect(stalled).toMatchObject({ unhealthyForMs: expect.any(Number) });
    expect((stalled as { unhealthyForMs: number }).unhealthyForMs).toBeGreaterThanOrEqual(150);
    expect(
      fixture.events.find((e) => e.topic === 'lane.state_changed' && (e.payload as { to: string }).to === 'blocked')
        ?.payload,
    ).toMatchObject({
      reason: 'task_stalled',
    });
  });

  it('the builtin task: a lane whose process is stopped (SIGSTOP) stalls, its neighbour does not', async () => {
    // Real processes and the real /proc scan, shared by both lanes' checks (STOPPED_SCAN_SHARE_MS).
    fixture = await createRuntimeFixture({ taskHealth: { intervalMs: 100, stallTimeoutMs: 1_500 } });
    const stopped = await fixture.rt.createLane({ label: 'stopped' });
    const running = await fixture.rt.createLane({ label: 'running' });
    const frozen = await stopped.spawnPty({ command: 'sleep', args: ['1000'] });
    await running.spawnPty({ command: 'sleep', args: ['1000'] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([stopped.state, running.state]).toEqual(['ready', 'ready']);
    process.kill(frozen.pid, 'SIGSTOP');
    await waitUntil(() => stopped.state === 'blocked', 'the stopped lane to stall', 10_000);
    await settle();
    const stalls = fixture.events.filter((e) => e.topic === 'lane.task_stalled').map((e) => e.payload);
    expect(stalls).toEqual([{ laneId: stopped.id, unhealthyForMs: expect.any(Number) }]);
    expect((stalls[0] as { unhealthyForMs: number }).unhealthyForMs).toBeGreaterThanOrEqual(1_500);
    expect(fixture.topics((e) => e.topic === 'lane.task_killed')).toEqual(['lane.task_killed']);
    expect(running.state).toBe('ready');
  });

  it('the builtin task ends every process carrying the lane tag at cleanup, setsid escapees included', async () => {
    fixture = await createRuntimeFixture();
    const lane = await fixture.rt.createLane();
    // A command that leaves a daemon behind: nothing but the lane's tag ties it to the lane.
    await lane.exec(['sh', '-c', 'setsid sh -c \'trap "" HUP; sleep 1000\' > /dev/null 2>&1 &']);
    await waitUntil(() => leftovers(fixture as RuntimeFixture).processes.length >= 1, 'the daemon');
    await lane.cleanup();
    expect(leftovers(fixture).processes).toEqual([]);
  });
});
