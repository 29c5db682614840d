import { afterEach, describe, expect, it } from 'vitest';
import { ACTIVITY_QUIET_MS } from '../../../supervision/pty/activity-watch.js';
import { createPtyFixture, recordOutput } from '../../support/pty-fixture.js';
import { waitUntil } from '../../support/wait.js';

let fixture: ReturnType<typeof createPtyFixture>;
afterEach(async () => {
  await fixture?.dispose();
});

const activities = (ptyId: string) =>
  fixture.eventsOf('pty.activity').flatMap((e) => {
    const payload = e.payload as { ptyId: string; activity: string };
    return payload.ptyId === ptyId ? [payload.activity] : [];
  });

describe('PTY activity', () => {
  it('is working while the program prints or computes, waiting at a prompt, and says so on the bus', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', 'echo start; read answer; echo "got $answer"; while :; do :; done'],
    });
    const output = recordOutput(pty);
    expect(pty.activity).toBe('working');
    await waitUntil(() => pty.activity === 'waiting', 'the prompt to be seen waiting', ACTIVITY_QUIET_MS * 5);
    pty.write('yes\r');
    await output.waitFor('got yes');
    expect(pty.activity).toBe('working');
    // Silent but on the CPU: still working, well past the quiet time.
    await new Promise((resolve) => setTimeout(resolve, ACTIVITY_QUIET_MS * 2.5));
    expect(pty.activity).toBe('working');
    await waitUntil(() => activities(pty.id).length >= 2, 'the events');
    expect(activities(pty.id)).toEqual(['waiting', 'working']);
    await pty.terminate({ graceMs: 200 });
    expect(pty.activity).toBeNull();
  });

  it('is idle once nothing happened for the idle timeout, and working again on output', async () => {
    fixture = createPtyFixture({ pty: { idleTimeoutMs: 1_500 } });
    const pty = await fixture.spawn({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', 'sleep 2.6; echo woke; sleep 30'],
    });
    await waitUntil(() => pty.activity === 'idle', 'the PTY to be idle', 5_000);
    await waitUntil(() => activities(pty.id).at(-1) === 'working', 'output to make it working', 5_000);
    expect(activities(pty.id).slice(0, 2)).toEqual(['idle', 'working']);
  });
});
