import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ACTIVITY_MIN_CHANGE_MS,
  ACTIVITY_POLL_MS,
  ACTIVITY_QUIET_MS,
  ACTIVITY_SETTLED_MS,
  ACTIVITY_SETTLED_POLL_MS,
  ActivityClock,
  ActivityWatch,
} from '../../../supervision/pty/activity-watch.js';
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
    // At once, or once ACTIVITY_MIN_CHANGE_MS has passed since it went waiting.
    await waitUntil(() => pty.activity === 'working', 'output to make it working', ACTIVITY_MIN_CHANGE_MS * 4);
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

describe('activity changes', () => {
  it('come at most one per ACTIVITY_MIN_CHANGE_MS: a program flickering between output and a prompt is no storm', () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    try {
      const changes: Array<{ activity: string; at: number }> = [];
      const watch = new ActivityWatch(
        1,
        null,
        () => ({ waitingForInput: true, cpuTicks: 0 }),
        (activity) => changes.push({ activity, at: performance.now() }),
        () => undefined,
      );
      vi.advanceTimersByTime(ACTIVITY_QUIET_MS + 10);
      watch.tick();
      for (let flicker = 0; flicker < 20; flicker++) {
        watch.touch();
        vi.advanceTimersByTime(20);
        watch.tick();
      }
      vi.advanceTimersByTime(ACTIVITY_QUIET_MS + 10);
      watch.tick();
      expect(changes.map((change) => change.activity)).toEqual(['waiting', 'working', 'waiting']);
      for (let i = 1; i < changes.length; i++) {
        expect((changes[i]?.at ?? 0) - (changes[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(ACTIVITY_MIN_CHANGE_MS);
      }
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('settled PTYs', () => {
  const ROUND_MS = ACTIVITY_POLL_MS;
  /** A watch over a scripted probe, ticked every ROUND_MS under fake timers; returns the look times. */
  function scripted(idleMs: number | null, cpuTicks: () => number, waitingForInput = true) {
    const looks: number[] = [];
    const changes: string[] = [];
    const watch = new ActivityWatch(
      1,
      idleMs,
      () => {
        looks.push(performance.now());
        return { waitingForInput, cpuTicks: cpuTicks() };
      },
      (activity) => changes.push(activity),
      () => undefined,
    );
    const run = (ms: number) => {
      for (let elapsed = 0; elapsed < ms; elapsed += ROUND_MS) {
        vi.advanceTimersByTime(ROUND_MS);
        watch.tick();
      }
    };
    return { watch, looks, changes, run };
  }
  const looksWithin = (looks: number[], from: number) => looks.filter((at) => at > from).length;

  it('are looked at every ACTIVITY_SETTLED_POLL_MS, and every round again once input or output comes', () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    try {
      const { watch, looks, changes, run } = scripted(null, () => 7);
      run(ACTIVITY_SETTLED_MS + ACTIVITY_QUIET_MS + ROUND_MS);
      expect(changes).toEqual(['waiting']);
      // Settled: one look per ACTIVITY_SETTLED_POLL_MS, not one per round.
      let from = performance.now();
      run(ACTIVITY_SETTLED_POLL_MS * 4);
      expect(looksWithin(looks, from)).toBe(4);
      // Input written: looked at in the next round, and every round until it settles again.
      watch.input();
      from = performance.now();
      run(ROUND_MS * 4);
      expect(looksWithin(looks, from)).toBe(4);
      run(ACTIVITY_SETTLED_MS);
      from = performance.now();
      run(ACTIVITY_SETTLED_POLL_MS * 2);
      expect(looksWithin(looks, from)).toBe(2);
      // Output: working at once, and looked at every round once it is quiet again.
      watch.touch();
      expect(watch.activity).toBe('working');
      run(ACTIVITY_QUIET_MS);
      from = performance.now();
      run(ROUND_MS * 4);
      expect(looksWithin(looks, from)).toBe(4);
      expect(watch.activity).toBe('waiting');
    } finally {
      vi.useRealTimers();
    }
  });

  it('that compute silently are never settled, and a settled one turns idle when its timeout passes, not a poll later', () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    try {
      let ticks = 0;
      const computing = scripted(null, () => ++ticks, false);
      computing.run(ACTIVITY_SETTLED_MS * 2);
      const from = performance.now();
      computing.run(ROUND_MS * 6);
      expect(looksWithin(computing.looks, from)).toBe(6);
      expect(computing.watch.activity).toBe('working');

      const IDLE_MS = ACTIVITY_SETTLED_MS + ACTIVITY_SETTLED_POLL_MS / 2;
      const blocked = scripted(IDLE_MS, () => 3, false);
      blocked.run(IDLE_MS - ROUND_MS);
      expect(blocked.watch.activity).toBe('working');
      // The round in which the timeout passes: settled, it was last looked at less than a poll ago.
      blocked.run(ROUND_MS);
      expect(blocked.changes).toEqual(['idle']);
      // Idle and settled: looked at seldom again.
      const idleFrom = performance.now();
      blocked.run(ACTIVITY_SETTLED_MS + ACTIVITY_SETTLED_POLL_MS * 3);
      expect(looksWithin(blocked.looks, idleFrom)).toBeLessThanOrEqual(ACTIVITY_SETTLED_MS / ROUND_MS + 3);

      // At a prompt past its idle timeout it stays waiting (a prompt is not idle), looked at seldom.
      const prompt = scripted(ACTIVITY_SETTLED_MS, () => 3, true);
      prompt.run(ACTIVITY_SETTLED_MS * 2);
      const promptFrom = performance.now();
      prompt.run(ACTIVITY_SETTLED_POLL_MS * 3);
      expect(prompt.watch.activity).toBe('waiting');
      expect(looksWithin(prompt.looks, promptFrom)).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the activity clock', () => {
  it('looks at many quiet PTYs in short turns, each once a round, with the event loop served in between', async () => {
    const PROBE_MS = 0.5;
    const TURN_MS = 2;
    const looks: Array<{ pid: number; at: number }> = [];
    const clock = new ActivityClock(
      (pid) => {
        const started = performance.now();
        while (performance.now() - started < PROBE_MS);
        looks.push({ pid, at: performance.now() });
        return { waitingForInput: false, cpuTicks: 0 };
      },
      50,
      TURN_MS,
    );
    const watches = Array.from({ length: 40 }, (_, pid) => clock.watch(pid, null, () => undefined));
    // What else the loop does meanwhile: one turn of it between two of the clock's, at least.
    const others: number[] = [];
    let running = true;
    const other = () => {
      others.push(performance.now());
      if (running) setImmediate(other);
    };
    try {
      await new Promise((resolve) => setTimeout(resolve, ACTIVITY_QUIET_MS + 20));
      setImmediate(other);
      await waitUntil(() => looks.length >= 120, 'three rounds of looks', 5_000);
    } finally {
      running = false;
      for (const watch of watches) watch.stop();
    }
    // The first round runs code V8 has not compiled yet; the next two show the turns.
    const rounds = [looks.slice(40, 80), looks.slice(80, 120)];
    for (const round of rounds) {
      expect(new Set(round.map((look) => look.pid)).size).toBe(40);
      // A look with something else run since the one before starts a turn; the longest turn stays short.
      let turns = 0;
      let longTurns = 0;
      let turnFrom = 0;
      let turnLongest = 0;
      let previous = (round[0]?.at ?? 0) - PROBE_MS;
      for (const look of round) {
        if (turns === 0 || others.some((at) => at > previous && at < look.at)) {
          if (turnLongest >= 10) longTurns++;
          turns++;
          turnFrom = look.at - PROBE_MS;
          turnLongest = 0;
        }
        turnLongest = Math.max(turnLongest, look.at - turnFrom);
        previous = look.at;
      }
      if (turnLongest >= 10) longTurns++;
      // All at once, a round is one turn of 20 ms; one long turn is allowed (the machine may stall the process).
      expect(turns).toBeGreaterThanOrEqual(5);
      expect(longTurns).toBeLessThanOrEqual(1);
    }
  });
});

describe('activity of real programs', () => {
  const PROGRAMS = {
    'bash at its prompt': { command: 'bash', args: ['--norc', '--noprofile', '-i'], expected: 'waiting' },
    'read -p': { command: 'bash', args: ['--norc', '--noprofile', '-c', 'read -p "name? " x'], expected: 'waiting' },
    'python input()': { command: 'python3', args: ['-c', 'input("name? ")'], expected: 'waiting' },
    'a node readline prompt': {
      command: process.execPath,
      args: [
        '-e',
        "require('readline').createInterface({ input: process.stdin, output: process.stdout }).question('q? ', () => {})",
      ],
      expected: 'waiting',
    },
    'a busy loop printing nothing': {
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', 'while :; do :; done'],
      expected: 'working',
    },
    'yes > /dev/null in the foreground': {
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', 'yes > /dev/null'],
      expected: 'working',
    },
    // Quiet and off the CPU, but not reading the terminal: a command runs. Working (idle only after idleTimeoutMs).
    'sleep 30': { command: 'sleep', args: ['30'], expected: 'working' },
  } as const;

  it('tells waiting from working for each, as a person would', async () => {
    fixture = createPtyFixture();
    const ptys = await Promise.all(
      Object.entries(PROGRAMS).map(async ([name, program]) => ({
        name,
        expected: program.expected as string,
        pty: await fixture.spawn({ command: program.command, args: [...program.args] }),
      })),
    );
    // Past the quiet time and a few looks at /proc: every one has settled.
    await waitUntil(
      () => ptys.every(({ pty, expected }) => pty.activity === expected),
      'each program to show its activity',
      ACTIVITY_QUIET_MS * 8,
    );
    await new Promise((resolve) => setTimeout(resolve, ACTIVITY_QUIET_MS * 1.5));
    expect(Object.fromEntries(ptys.map(({ name, pty }) => [name, pty.activity]))).toEqual(
      Object.fromEntries(ptys.map(({ name, expected }) => [name, expected])),
    );
    // The working ones never looked waiting on the way.
    for (const { pty, expected } of ptys)
      if (expected === 'working') expect(activities(pty.id)).not.toContain('waiting');
  });
});
