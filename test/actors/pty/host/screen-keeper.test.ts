import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostedPty } from '../../../../actors/pty/host/hosted-pty.js';
import { ScreenKeeper, screenFileOf } from '../../../../actors/pty/host/screen-keeper.js';
import { nodePtyDriver } from '../../../../actors/pty/node-pty-driver.js';
import { createPtyId } from '../../../../bus/ids.js';
import { waitUntil } from '../../../support/wait.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Real terminals in this process, each printing `lines` numbered lines and then waiting. */
async function terminalsShowing(count: number, lines: number) {
  const stateDir = mkdtempSync(join(tmpdir(), 'lanevisor-screens-'));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const ptys = Array.from({ length: count }, (_, index) => {
    const pty = new HostedPty(
      nodePtyDriver,
      {
        ptyId: createPtyId(),
        spawn: {
          file: 'bash',
          args: [
            '--norc',
            '--noprofile',
            '-c',
            `for i in $(seq 1 ${lines}); do echo "pty ${index} line $i"; done; sleep 60`,
          ],
          cwd: '/',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          cols: 80,
          rows: 24,
        },
        tag: { name: 'LANEVISOR_PTY_ID', value: 'screens' },
        maxPendingInputBytes: 1 << 20,
      },
      {},
      1 << 22,
      'rt_test0000000000',
    );
    cleanups.push(() => pty.session.close());
    return pty;
  });
  await waitUntil(() => ptys.every((pty) => pty.total > lines * 10), 'every terminal to print its lines', 10_000);
  // Parsed before the pass (as a quiet terminal's mirror is): the pass is serialization alone.
  for (const pty of ptys) await pty.snapshot();
  return { stateDir, ptys };
}

describe('the screen keeper', () => {
  it('writes each screen that changed, and serializes none that did not', async () => {
    const { stateDir, ptys } = await terminalsShowing(3, 50);
    const keeper = new ScreenKeeper(stateDir, () => undefined, 1);
    const serialized = ptys.map((pty) => vi.spyOn(pty.session, 'historyToKeep'));
    await keeper.persist(ptys);
    for (const [index, pty] of ptys.entries()) {
      expect(readFileSync(screenFileOf(stateDir, pty.ptyId), 'utf8')).toContain(`pty ${index} line 50`);
    }
    expect(serialized.map((spy) => spy.mock.calls.length)).toEqual([1, 1, 1]);

    await keeper.persist(ptys);
    expect(serialized.map((spy) => spy.mock.calls.length)).toEqual([1, 1, 1]);

    // The terminal echoes what is typed (nothing reads it): new output on the second screen only.
    const second = ptys[1] as HostedPty;
    const before = second.session.screenChanges;
    second.session.write('typed on the second\r');
    await waitUntil(() => second.session.screenChanges > before, 'the echo on the second terminal');
    await keeper.persist(ptys);
    expect(serialized.map((spy) => spy.mock.calls.length)).toEqual([1, 2, 1]);
  });

  it('serves the event loop between screens, and waits out its share of time before the next pass', async () => {
    const { stateDir, ptys } = await terminalsShowing(8, 1_000);
    const keeper = new ScreenKeeper(stateDir, () => undefined, 0.05);
    const serialized = ptys.map((pty) => vi.spyOn(pty.session, 'historyToKeep'));
    // What else the loop does meanwhile (a keystroke, a frame): counted while the pass runs.
    let otherTurns = 0;
    let running = true;
    const other = () => {
      otherTurns++;
      if (running) setImmediate(other);
    };
    setImmediate(other);
    const started = performance.now();
    await keeper.persist(ptys);
    const passMs = performance.now() - started;
    running = false;
    for (const pty of ptys) expect(existsSync(screenFileOf(stateDir, pty.ptyId))).toBe(true);
    // All eight in one go left no turn to anything else (the pass was one stretch).
    expect(otherTurns).toBeGreaterThanOrEqual(ptys.length - 1);

    // Something new on every screen, right away: the next pass waits (about 19 times the last one's work).
    const before = ptys.map((pty) => pty.session.screenChanges);
    for (const pty of ptys) pty.session.write('typed again\r');
    await waitUntil(
      () => ptys.every((pty, index) => pty.session.screenChanges > (before[index] ?? 0)),
      'new output everywhere',
    );
    await keeper.persist(ptys);
    expect(serialized.map((spy) => spy.mock.calls.length)).toEqual(ptys.map(() => 1));
    await new Promise((resolve) => setTimeout(resolve, passMs * 19 + 100));
    await keeper.persist(ptys);
    expect(serialized.map((spy) => spy.mock.calls.length)).toEqual(ptys.map(() => 2));
  });

  it('writes no screen for a PTY forgotten while a pass runs (its file would outlive it)', async () => {
    const { stateDir, ptys } = await terminalsShowing(4, 1_000);
    const keeper = new ScreenKeeper(stateDir, () => undefined, 1);
    const pass = keeper.persist(ptys);
    const last = ptys.at(-1) as HostedPty;
    keeper.forget(last.ptyId);
    await pass;
    for (const pty of ptys.slice(0, -1)) expect(existsSync(screenFileOf(stateDir, pty.ptyId))).toBe(true);
    expect(existsSync(screenFileOf(stateDir, last.ptyId))).toBe(false);
  });
});
