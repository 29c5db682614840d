import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { laneStateOf } from '../../machines/lane/lane.machine.js';
import {
  decideRestart,
  endingOf,
  RESTART_BACKOFF_BASE_MS,
  RESTART_BACKOFF_MAX_MS,
  type RestartType,
  wantsRestart,
} from '../../machines/restart-policy.js';
import { done, INTENSITY, outcome, startLane } from './lane-fakes.js';

describe('the restart policy', () => {
  it('follows OTP restart types', () => {
    const table: [RestartType, 'normal' | 'abnormal' | 'requested', boolean][] = [
      ['permanent', 'normal', true],
      ['permanent', 'abnormal', true],
      ['permanent', 'requested', false],
      ['transient', 'normal', false],
      ['transient', 'abnormal', true],
      ['transient', 'requested', false],
      ['temporary', 'normal', false],
      ['temporary', 'abnormal', false],
      ['temporary', 'requested', false],
    ];
    for (const [type, ending, expected] of table)
      expect(wantsRestart(type, ending), `${type}/${ending}`).toBe(expected);
  });

  it('reads endings from PTY outcomes', () => {
    expect(endingOf(outcome('p', 'exited'))).toBe('normal');
    expect(endingOf(outcome('p', 'crashed'))).toBe('abnormal');
    expect(endingOf(outcome('p', 'spawn_failed'))).toBe('abnormal');
    expect(endingOf(outcome('p', 'crashed', true))).toBe('requested');
  });

  it('backs off exponentially up to a ceiling, and escalates at the intensity limit', () => {
    const intensity = { maxRestarts: 6, periodMs: 60_000 };
    const delays = [0, 1, 2, 3, 4, 5].map((recent) => decideRestart('permanent', 'abnormal', recent, intensity));
    expect(delays.map((d) => (d.kind === 'restart' ? d.delayMs : d.kind))).toEqual([
      RESTART_BACKOFF_BASE_MS,
      RESTART_BACKOFF_BASE_MS * 2,
      RESTART_BACKOFF_BASE_MS * 4,
      RESTART_BACKOFF_BASE_MS * 8,
      RESTART_BACKOFF_BASE_MS * 16,
      RESTART_BACKOFF_MAX_MS,
    ]);
    expect(decideRestart('permanent', 'abnormal', 6, intensity)).toMatchObject({
      kind: 'escalate',
      reason: expect.stringMatching(/restarted 6 times within 60000 ms/),
    });
    expect(decideRestart('temporary', 'abnormal', 99, intensity)).toEqual({ kind: 'none' });
  });
});

describe('restart intensity in a lane', () => {
  it(`restarts ${INTENSITY.maxRestarts} times within the period, escalates at the next ending, forgets restarts after the period`, () => {
    const clock = new SimulatedClock();
    const lane = startLane(clock);
    lane.send({ type: 'PROVISION' });
    lane.send(done('provision'));
    lane.send({ type: 'SPAWN_PTY', ptyId: 'pty_a', restart: 'permanent', graceMs: 5 });
    // Two crashes: two restarts (backoffs of 100 and 200 ms).
    for (let generation = 1; generation <= INTENSITY.maxRestarts; generation++) {
      lane.send(done(`pty_a~${generation}`, outcome('pty_a', 'crashed')));
      expect(lane.getSnapshot().context.ptys.pty_a?.status).toBe('restarting');
      clock.increment(RESTART_BACKOFF_BASE_MS * 2 ** (generation - 1));
      expect(lane.getSnapshot().context.ptys.pty_a).toMatchObject({ status: 'running', generation: generation + 1 });
    }
    // Once the period has passed, the earlier restarts no longer count.
    clock.increment(INTENSITY.periodMs);
    expect(lane.getSnapshot().context.ptys.pty_a?.recentRestarts).toBe(0);
    lane.send(done(`pty_a~${INTENSITY.maxRestarts + 1}`, outcome('pty_a', 'crashed')));
    expect(lane.getSnapshot().context.ptys.pty_a?.status).toBe('restarting');
    clock.increment(RESTART_BACKOFF_BASE_MS);
    // Within one period: the limit is reached and the next ending escalates.
    lane.send(done(`pty_a~${INTENSITY.maxRestarts + 2}`, outcome('pty_a', 'crashed')));
    clock.increment(RESTART_BACKOFF_BASE_MS * 2);
    lane.send(done(`pty_a~${INTENSITY.maxRestarts + 3}`, outcome('pty_a', 'crashed')));
    expect(lane.getSnapshot().context.ptys.pty_a?.status).toBe('finished');
    expect(laneStateOf(lane.getSnapshot())).toBe('blocked');
    // A late ending of an old generation changes nothing.
    lane.send(done('pty_a~1', outcome('pty_a', 'crashed')));
    expect(lane.getSnapshot().context.ptys.pty_a?.generation).toBe(INTENSITY.maxRestarts + 3);
    lane.stop();
  });
});
