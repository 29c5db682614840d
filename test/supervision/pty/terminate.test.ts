import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createInlinePtyBackend } from '../../../actors/pty/local-session.js';
import { nodePtyDriver } from '../../../actors/pty/node-pty-driver.js';
import { cmdlineOf, isAlive, livePidsTagged } from '../../support/proc-scan.js';
import { BASH, createPtyFixture, recordOutput } from '../../support/pty-fixture.js';
import { settle, waitUntil } from '../../support/wait.js';

let fixture: ReturnType<typeof createPtyFixture>;
afterEach(async () => {
  await fixture?.dispose();
});

describe('terminating a PTY', () => {
  it('escalates to SIGKILL within grace + 1 s for a child that ignores TERM and HUP', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', "trap '' TERM HUP; echo ignoring; while :; do sleep 0.1; done"],
    });
    const out = recordOutput(pty);
    await out.waitFor('ignoring');
    const graceMs = 500;
    const started = performance.now();
    const result = await pty.terminate({ graceMs });
    const took = performance.now() - started;
    expect(result).toEqual({ exitCode: null, signal: 'SIGKILL', escalated: true });
    expect(took).toBeGreaterThanOrEqual(graceMs - 20);
    expect(took).toBeLessThan(graceMs + 1_000);
    expect(pty.state).toBe('stopped');
    expect(livePidsTagged('LANEVISOR_PTY_ID', pty.id)).toEqual([]);
    await settle();
    const signals = fixture.eventsOf('pty.signal', pty).map((e) => e.payload as { signal: string; outcome: string });
    expect(signals.map((s) => s.signal)).toEqual(expect.arrayContaining(['SIGHUP', 'SIGTERM', 'SIGKILL']));
    expect(fixture.eventsOf('pty.stopped', pty)[0]?.payload).toMatchObject({
      state: 'stopped',
      escalated: true,
      signal: 'SIGKILL',
    });
  });

  it('ends a background job, a job that ignores HUP, and a setsid grandchild, leaving no tagged process', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    const out = recordOutput(pty);
    pty.write("sleep 1000 & (trap '' HUP TERM; sleep 1001) & setsid sleep 1002 & echo started-$!\r");
    await out.waitFor(/started-\d+/);
    const sleeps = () =>
      livePidsTagged('LANEVISOR_PTY_ID', pty.id).filter((pid) =>
        ['sleep 1000', 'sleep 1001', 'sleep 1002'].includes(cmdlineOf(pid).split('\0').join(' ').trim()),
      );
    await waitUntil(() => sleeps().length === 3, 'the three sleeps');
    const before = livePidsTagged('LANEVISOR_PTY_ID', pty.id);
    const result = await pty.terminate({ graceMs: 300 });
    expect(result.escalated).toBe(true); // the HUP-ignoring job and the setsid one needed SIGKILL
    for (const pid of before) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(livePidsTagged('LANEVISOR_PTY_ID', pty.id)).toEqual([]);
  });

  it('does not wait for the grace period when everything exits on SIGHUP', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    pty.write('sleep 1000 &\r');
    await waitUntil(() => livePidsTagged('LANEVISOR_PTY_ID', pty.id).length >= 2, 'the job');
    const started = performance.now();
    const result = await pty.terminate({ graceMs: 10_000 });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result.escalated).toBe(false);
    expect(livePidsTagged('LANEVISOR_PTY_ID', pty.id)).toEqual([]);
  });

  it('is idempotent: concurrent and later calls get the same result', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    const [a, b] = await Promise.all([pty.terminate({ graceMs: 500 }), pty.terminate()]);
    expect(b).toEqual(a);
    expect(await pty.terminate()).toEqual(a);
    await settle();
    expect(fixture.eventsOf('pty.stopped', pty)).toHaveLength(1);
  });

  it('rejects a bad grace with INVALID_ARGUMENT', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    expect(() => pty.terminate({ graceMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(pty.state).toBe('active');
  });

  it('ends stopped on exit 0 and errored on a non-zero exit, with the exit code', async () => {
    fixture = createPtyFixture();
    const clean = await fixture.spawn({ command: 'sh', args: ['-c', 'exit 0'] });
    const failing = await fixture.spawn({ command: 'sh', args: ['-c', 'exit 3'] });
    expect(await clean.exited).toEqual({ exitCode: 0, signal: null });
    expect(await failing.exited).toEqual({ exitCode: 3, signal: null });
    expect([clean.state, failing.state]).toEqual(['stopped', 'errored']);
    // terminate after the end answers at once with what happened.
    expect(await failing.terminate()).toEqual({ exitCode: 3, signal: null, escalated: false });
  });
});

describe('isolation', () => {
  it('kill -9 of one of three PTYs: only it is errored, with the signal in the event; the others work', async () => {
    fixture = createPtyFixture();
    const ptys = [await fixture.spawn(), await fixture.spawn(), await fixture.spawn()];
    const victim = ptys[1];
    if (!victim) throw new Error('no PTY');
    process.kill(victim.pid, 'SIGKILL');
    expect(await victim.exited).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(ptys.map((p) => p.state)).toEqual(['active', 'errored', 'active']);
    await settle();
    expect(fixture.eventsOf('pty.stopped', victim)[0]?.payload).toMatchObject({
      state: 'errored',
      signal: 'SIGKILL',
      exitCode: null,
    });
    expect(fixture.eventsOf('pty.state_changed', victim).at(-1)?.payload).toMatchObject({
      to: 'errored',
      reason: 'crashed',
    });
    for (const pty of [ptys[0], ptys[2]]) {
      if (!pty) continue;
      const out = recordOutput(pty);
      pty.write('echo still-here\r');
      await out.waitFor('still-here\r\n');
    }
  });

  it('a missing command fails the spawn with SPAWN_ERROR and a diagnostic; siblings are untouched and the lane can spawn again', async () => {
    fixture = createPtyFixture();
    const sibling = await fixture.spawn();
    const failure = await fixture.spawn({ command: 'definitely-not-a-command-xyz' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'SPAWN_ERROR' });
    expect((failure as Error).message).toMatch(/definitely-not-a-command-xyz/);
    await settle();
    const diagnostics = fixture.events.filter((e) => e.topic === 'pty.error').map((e) => e.payload);
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'SPAWN_ERROR' })]);
    const states = fixture.events
      .filter((e) => e.topic === 'pty.state_changed' && (e.payload as { ptyId: string }).ptyId !== sibling.id)
      .map((e) => (e.payload as { to: string }).to);
    expect(states).toEqual(['spawning', 'errored']);
    expect(sibling.state).toBe('active');
    expect(fixture.standalone.ptys()).toEqual([sibling]);
    const again = await fixture.spawn();
    expect(again.state).toBe('active');
  });

  it('inline: a spawn that fails for lack of file descriptors is a SPAWN_ERROR, and spawning works again once they are back', async () => {
    // The orchestrator's own descriptors: with the terminal host, spawns do not need them.
    fixture = createPtyFixture({ backend: createInlinePtyBackend(nodePtyDriver) });
    const sibling = await fixture.spawn();
    const { openSync, closeSync } = await import('node:fs');
    const held: number[] = [];
    try {
      for (;;) held.push(openSync('/dev/null', 'r'));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('EMFILE');
    }
    let failure: unknown;
    try {
      await fixture.spawn();
    } catch (error) {
      failure = error;
    } finally {
      for (const fd of held) closeSync(fd);
    }
    expect(failure).toMatchObject({ code: 'SPAWN_ERROR' });
    expect(sibling.state).toBe('active');
    expect((await fixture.spawn()).state).toBe('active');
  });

  it("a child does not inherit other PTYs' master descriptors (or our slave holds)", async () => {
    fixture = createPtyFixture();
    const first = await fixture.spawn();
    await fixture.spawn();
    const third = await fixture.spawn();
    await waitUntil(() => readlinkSync(`/proc/${third.pid}/exe`).endsWith('bash'), 'the third child to exec');
    const targets = readdirSync(`/proc/${third.pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${third.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    const ownTty = readlinkSync(`/proc/${third.pid}/fd/0`);
    expect(targets.filter((t) => t === '/dev/ptmx')).toEqual([]);
    expect(targets.filter((t) => t.startsWith('/dev/pts/') && t !== ownTty)).toEqual([]);
    expect(readlinkSync(`/proc/${first.pid}/fd/0`)).not.toBe(ownTty);
  });
});

describe('the PTY host', () => {
  it('terminates every PTY in reverse start order', async () => {
    fixture = createPtyFixture();
    const ptys = [await fixture.spawn(BASH), await fixture.spawn(BASH), await fixture.spawn(BASH)];
    const results = await fixture.standalone.terminateAll(undefined, { graceMs: 500 });
    expect(results).toHaveLength(3);
    await settle();
    const stoppedOrder = fixture.events
      .filter((e) => e.topic === 'pty.stopped')
      .map((e) => (e.payload as { ptyId: string }).ptyId);
    expect(stoppedOrder).toEqual(ptys.map((p) => p.id).reverse());
    expect(fixture.standalone.ptys()).toEqual([]);
  });
});
