import { afterEach, describe, expect, it } from 'vitest';
import { CONTROL_METHODS } from '../../../supervision/control/commands.js';
import type { LaneView, PtyInfo } from '../../../supervision/control/views.js';
import { createRuntime } from '../../../supervision/runtime/runtime.js';
import { createTempRepo, gitIn } from '../../support/git-repo.js';
import { createRuntimeFixture, type RuntimeFixture } from '../../support/runtime-fixture.js';
import { waitUntil } from '../../support/wait.js';

/** The runtime's operations as commands on its bus: what the control socket and the HTTP server adapt. */
let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
});

describe("the runtime's control commands", () => {
  it('create a lane, run a terminal in it (write, resize, read, snapshot, end) and an exec, and clean it up', async () => {
    fixture = await createRuntimeFixture({ pty: { terminateGraceMs: 500 } });
    const { rt } = fixture;
    const { bus } = rt;
    expect(await bus.request('runtime.info', {})).toMatchObject({ id: rt.id, pid: process.pid, stateDir: rt.stateDir });

    const lane = (await bus.request(
      'lane.create',
      { label: 'by-command' },
      { correlationId: 'cor_fromclient' },
    )) as LaneView;
    expect(lane).toMatchObject({ label: 'by-command', state: 'ready', branch: 'lane/by-command', ptys: [] });
    expect(rt.getLane(lane.id)?.label).toBe('by-command');
    // The operation's events carry the caller's correlation id.
    const created = fixture.events.find((event) => event.topic === 'lane.created');
    expect(created?.correlationId).toBe('cor_fromclient');
    expect(((await bus.request('lane.list', {})) as LaneView[]).map((view) => view.id)).toEqual([lane.id]);

    const script = 'read line; echo "got-$line"; exec sleep 600';
    const pty = (await bus.request('pty.spawn', {
      laneId: lane.id,
      options: { command: 'bash', args: ['--norc', '--noprofile', '-c', script], restart: 'temporary' },
    })) as PtyInfo;
    expect(pty).toMatchObject({
      laneId: lane.id,
      state: 'active',
      cols: 80,
      rows: 24,
      restart: 'temporary',
      restarts: 0,
    });
    expect(rt.getPty(pty.id)?.pid).toBe(pty.pid);
    await bus.request('pty.write', { ptyId: pty.id, data: 'hello\r' });
    await waitUntil(() => rt.getPty(pty.id)?.scrollback().includes('got-hello') === true, 'the echo');
    expect(((await bus.request('pty.scrollback', { ptyId: pty.id })) as { data: string }).data).toContain('got-hello');
    await bus.request('pty.resize', { ptyId: pty.id, cols: 100, rows: 30 });
    expect(await bus.request('pty.get', { ptyId: pty.id })).toMatchObject({ cols: 100, rows: 30 });
    const snapshot = (await bus.request('pty.snapshot', { ptyId: pty.id })) as { data: string; cols: number };
    expect(snapshot.data).toContain('got-hello');
    expect(snapshot.cols).toBe(100);
    expect(((await bus.request('lane.get', { laneId: lane.id })) as LaneView).ptys.map((info) => info.id)).toEqual([
      pty.id,
    ]);
    expect(await bus.request('pty.terminate', { ptyId: pty.id, graceMs: 200 })).toMatchObject({ escalated: false });

    const result = await bus.request('lane.exec', {
      laneId: lane.id,
      argv: ['git', 'rev-parse', '--abbrev-ref', 'HEAD'],
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'lane/by-command\n', timedOut: false });

    const report = await bus.request('lane.cleanup', { laneId: lane.id });
    expect(report).toMatchObject({ laneId: lane.id, branch: 'lane/by-command', salvagedRef: null });
    expect(rt.lanes()).toEqual([]);
    expect(gitIn(fixture.repo.path, 'branch', '--list', 'lane/by-command')).toBe('');
  });

  it('answer bad input with the error code that says what is wrong, and are gone once the runtime is', async () => {
    fixture = await createRuntimeFixture();
    const { rt } = fixture;
    const { bus } = rt;
    const fails = (method: string, payload: unknown) =>
      bus.request(method, payload).then(
        () => undefined,
        (error) => error,
      );
    expect(await fails('lane.get', { laneId: 'lane_nosuchlane0000' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fails('pty.write', { ptyId: 'pty_nosuchpty00000', data: 'x' })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fails('pty.write', { ptyId: 'pty_nosuchpty00000' })).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'pty.write.data' },
    });
    expect(await fails('lane.create', { label: '../escape' })).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await fails('lane.create', { label: 'ok', surprise: true })).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await fails('lane.exec', { laneId: 'lane_x', argv: [] })).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await fails('pty.resize', { ptyId: 'pty_x', cols: 0, rows: 24 })).toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    expect(await fails('pty.signal', { ptyId: 'pty_x', signal: 'rm -rf' })).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await fails('lane.list', 'not an object')).toMatchObject({ code: 'VALIDATION_ERROR' });
    // Nothing was made by any of them.
    expect(rt.lanes()).toEqual([]);
    expect(bus.stats().handlers).toBe(CONTROL_METHODS.length);

    await rt.shutdown();
    expect(bus.stats().handlers).toBe(0);
    expect(await fails('lane.list', {})).toMatchObject({ code: 'METHOD_NOT_FOUND' });
  });

  it('on a bus two live runtimes share, are answered by the first; the second starts all the same', async () => {
    fixture = await createRuntimeFixture();
    const other = createTempRepo();
    try {
      const second = await createRuntime({ repo: other.path, bus: fixture.rt.bus });
      expect(await fixture.rt.bus.request('runtime.info', {})).toMatchObject({ id: fixture.rt.id });
      await second.shutdown();
      // The second one's shutdown leaves the first one's commands in place.
      expect(await fixture.rt.bus.request('runtime.info', {})).toMatchObject({ id: fixture.rt.id });
    } finally {
      other.dispose();
    }
  });
});
