import { readTerminalActivity, type TerminalActivity } from '../../actors/process/terminal-input.js';

/**
 * What a PTY's program is doing, for people and orchestrators deciding who needs attention:
 * `working` while it prints or uses CPU, `waiting` when its foreground program has gone quiet
 * blocked on the terminal's input (a prompt, a pager, an editor), `idle` when nothing at all has
 * happened for the idle timeout. One clock per runtime looks at every quiet PTY; a PTY that is
 * printing costs nothing but a timestamp.
 */
export type PtyActivity = 'working' | 'waiting' | 'idle';

/** How often quiet PTYs are looked at. */
export const ACTIVITY_POLL_MS = 500;
/** Output this recent means working, without looking at /proc. */
export const ACTIVITY_QUIET_MS = 1_000;
/** Changes closer together than this wait for the next look: no storm of events from a flickering program. */
export const ACTIVITY_MIN_CHANGE_MS = 250;
/**
 * A PTY with no output, no input, no CPU used and no change of activity for this long is settled
 * (a prompt nobody answers, a `sleep`, an agent waiting on the network) and is looked at every
 * ACTIVITY_SETTLED_POLL_MS instead of every round. What ends a settled state almost always comes
 * with output (a typed command's echo, a redraw) or input written by the runtime, and either
 * unsettles it at once; only a program that starts computing silently is seen up to
 * ACTIVITY_SETTLED_POLL_MS late. Most PTYs of a busy runtime are settled most of the time: 300
 * `sleep`s were 605 looks a second looked at every round, 136 so (docs/performance.md).
 */
export const ACTIVITY_SETTLED_MS = 5_000;
export const ACTIVITY_SETTLED_POLL_MS = 2_000;

type Probe = (pid: number) => TerminalActivity;

/**
 * The longest one turn of looking may hold the event loop: a look at a quiet PTY reads several
 * files of /proc (55-85 µs each; 300 quiet PTYs took 16-26 ms at once), so a round over many is
 * cut into turns, with the loop's I/O (keystrokes, output) served between them.
 */
export const ACTIVITY_TURN_MS = 2;

/**
 * The one ticker of a runtime's activity watches: every ACTIVITY_POLL_MS a round looks at each
 * watch once, in turns of at most ACTIVITY_TURN_MS; a round still under way when the next is due
 * is not started again.
 */
export class ActivityClock {
  readonly #watches = new Set<ActivityWatch>();
  #timer: NodeJS.Timeout | undefined;
  /** The watches the round under way has still to look at, and where it is. */
  #round: ActivityWatch[] = [];
  #next = 0;
  #turn: NodeJS.Immediate | undefined;

  constructor(
    private readonly probe: Probe = readTerminalActivity,
    private readonly pollMs = ACTIVITY_POLL_MS,
    private readonly turnMs = ACTIVITY_TURN_MS,
  ) {}

  /** Starts watching `pid`; `onChange` hears every change of activity. */
  watch(pid: number, idleMs: number | null, onChange: (activity: PtyActivity) => void): ActivityWatch {
    const watch = new ActivityWatch(pid, idleMs, this.probe, onChange, () => this.#remove(watch));
    this.#watches.add(watch);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#startRound(), this.pollMs);
      this.#timer.unref();
    }
    return watch;
  }

  #startRound(): void {
    if (this.#next < this.#round.length) return;
    this.#round = [...this.#watches];
    this.#next = 0;
    this.#lookInTurn();
  }

  readonly #lookInTurn = (): void => {
    this.#turn = undefined;
    const until = performance.now() + this.turnMs;
    while (this.#next < this.#round.length) {
      const watch = this.#round[this.#next++] as ActivityWatch;
      // One that stopped since the round began is not looked at.
      if (this.#watches.has(watch)) watch.tick();
      if (performance.now() >= until) break;
    }
    if (this.#next < this.#round.length) this.#turn = setImmediate(this.#lookInTurn).unref();
    else this.#round = [];
  };

  #remove(watch: ActivityWatch): void {
    this.#watches.delete(watch);
    if (this.#watches.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      if (this.#turn !== undefined) clearImmediate(this.#turn);
      this.#turn = undefined;
      this.#round = [];
      this.#next = 0;
    }
  }
}

export class ActivityWatch {
  #activity: PtyActivity = 'working';
  #lastOutputAt = performance.now();
  #lastSeenBusyAt = performance.now();
  #cpuTicks = -1;
  #changedAt = Number.NEGATIVE_INFINITY;
  #lastInputAt = Number.NEGATIVE_INFINITY;
  #lookedAt = Number.NEGATIVE_INFINITY;
  #deferred: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly idleMs: number | null,
    private readonly probe: Probe,
    private readonly onChange: (activity: PtyActivity) => void,
    private readonly onStop: () => void,
  ) {}

  get activity(): PtyActivity {
    return this.#activity;
  }

  /** Output arrived: working at once. */
  touch(): void {
    this.#lastOutputAt = performance.now();
    this.#set('working');
  }

  /** Input was written to the terminal: something may change, looked at again in the next round. */
  input(): void {
    this.#lastInputAt = performance.now();
  }

  stop(): void {
    clearTimeout(this.#deferred);
    this.onStop();
  }

  tick(): void {
    const now = performance.now();
    if (this.#settled(now) && now - this.#lookedAt < ACTIVITY_SETTLED_POLL_MS && !this.#idleDue(now)) return;
    this.#set(this.#judge(now));
  }

  #settled(now: number): boolean {
    const lastHappened = Math.max(this.#lastOutputAt, this.#lastInputAt, this.#lastSeenBusyAt, this.#changedAt);
    return now - lastHappened >= ACTIVITY_SETTLED_MS;
  }

  /** The idle timeout passed since the last look: look now (once), not at the next settled look. */
  #idleDue(now: number): boolean {
    if (this.idleMs === null || this.#activity === 'idle') return false;
    const idleAt = this.#quietSince() + this.idleMs;
    return now >= idleAt && idleAt > this.#lookedAt;
  }

  #judge(now: number): PtyActivity {
    if (now - this.#lastOutputAt < ACTIVITY_QUIET_MS) return 'working';
    this.#lookedAt = now;
    const { waitingForInput, cpuTicks } = this.probe(this.pid);
    const usedCpu = this.#cpuTicks >= 0 && cpuTicks > this.#cpuTicks;
    this.#cpuTicks = cpuTicks;
    if (usedCpu) this.#lastSeenBusyAt = now;
    if (waitingForInput === true && !usedCpu) return 'waiting';
    return this.idleMs !== null && now - this.#quietSince() >= this.idleMs ? 'idle' : 'working';
  }

  /** Since when it has neither printed nor been seen using CPU: what the idle timeout counts from. */
  #quietSince(): number {
    return Math.max(this.#lastOutputAt, this.#lastSeenBusyAt);
  }

  #set(activity: PtyActivity): void {
    if (activity === this.#activity) return;
    const now = performance.now();
    // Too soon after the last change: judged again once the spacing has passed (output keeps its timestamp).
    const wait = this.#changedAt + ACTIVITY_MIN_CHANGE_MS - now;
    if (wait > 0) {
      this.#deferred ??= setTimeout(() => {
        this.#deferred = undefined;
        this.tick();
      }, wait);
      this.#deferred.unref();
      return;
    }
    this.#changedAt = now;
    this.#activity = activity;
    this.onChange(activity);
  }
}
