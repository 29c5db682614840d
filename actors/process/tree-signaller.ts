import {
  isSameProcessAlive,
  type ProcessIdentity,
  type ProcessTreeSelection,
  type SignalOutcome,
  scanProcessTree,
  selectorsOf,
  signalProcesses,
  signalProcessGroup,
  type TreeMember,
} from './process-tree.js';

/** How often the known processes are checked while a tree is being stopped. */
export const TREE_POLL_MS = 20;
/** How often /proc is scanned again for processes that appeared meanwhile. */
export const TREE_RESCAN_MS = 200;

/** One signal sent: the fact published (as `pty.signal` for a PTY). */
export interface SignalRecord {
  readonly signal: string;
  /** `group`: the tree's process group (`pid` is its id); `process`: one process. */
  readonly target: 'group' | 'process';
  readonly pid: number;
  /** Epoch milliseconds. */
  readonly sentAt: number;
  readonly outcome: SignalOutcome;
  readonly error?: string;
}

/**
 * Stops every process of one tree (a PTY's, an exec's, a lane's), or of several at once (what a
 * dead runtime left): its group first, then every
 * other member of its session and every process carrying its tag; keeps watching until none is left (zombies count as gone), then
 * calls `onGone` once. `signal` is the graceful step, `kill` the forced one (SIGKILL, repeated for
 * any process that appears meanwhile).
 */
export class TreeSignaller {
  #members: TreeMember[] = [];
  #signals: readonly NodeJS.Signals[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastScanAt = 0;
  #done = false;
  readonly #leaders: readonly ProcessIdentity[];
  readonly #leaderPids: ReadonlySet<number>;

  constructor(
    private readonly selection: ProcessTreeSelection,
    private readonly report: (record: SignalRecord) => void,
    private readonly onGone: () => void,
  ) {
    this.#leaders = selectorsOf(selection).flatMap((selector) => (selector.leader ? [selector.leader] : []));
    this.#leaderPids = new Set(this.#leaders.map((leader) => leader.pid));
  }

  /** One signal to the process group of each tree's leader, recorded; starts no watch. */
  signalGroup(signal: NodeJS.Signals): void {
    for (const leader of this.#leaders) this.#record(signal, 'group', leader.pid, signalProcessGroup(leader, signal));
  }

  /** The processes still being watched (after a `stop()`, those that had not gone yet). */
  get remaining(): readonly ProcessIdentity[] {
    return this.#members;
  }

  /** The graceful step: these signals to every process of the tree, then watch until none is left. */
  signal(signals: readonly NodeJS.Signals[]): void {
    this.#signals = signals;
    this.#rescanAndSignal();
  }

  /** The forced step: SIGKILL to every process of the tree, and to any that appears, until none is left. */
  kill(): void {
    this.#signals = ['SIGKILL'];
    this.#rescanAndSignal();
  }

  stop(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #rescanAndSignal(): void {
    if (this.#done) return;
    clearTimeout(this.#timer);
    this.#members = scanProcessTree(this.selection);
    this.#lastScanAt = performance.now();
    for (const signal of this.#signals) {
      // The group as a whole (atomic for its members), then the rest of the session and the tagged escapees.
      this.signalGroup(signal);
      this.#sendEach(
        signal,
        this.#members.filter((m) => !this.#leaderPids.has(m.pgid)),
      );
    }
    this.#check();
  }

  #sendEach(signal: NodeJS.Signals, members: readonly TreeMember[]): void {
    for (const result of signalProcesses(members, signal)) this.#record(signal, 'process', result.pid, result);
  }

  #record(
    signal: NodeJS.Signals,
    target: 'group' | 'process',
    pid: number,
    result: { outcome: SignalOutcome; error?: string },
  ): void {
    this.report({
      signal,
      target,
      pid,
      sentAt: Date.now(),
      outcome: result.outcome,
      ...(result.error === undefined ? {} : { error: result.error }),
    });
  }

  #check = (): void => {
    this.#timer = undefined;
    if (this.#done) return;
    this.#members = this.#members.filter(isSameProcessAlive);
    const rescanDue = performance.now() - this.#lastScanAt >= TREE_RESCAN_MS;
    if (this.#members.length === 0 || rescanDue) {
      const previous = new Set(this.#members.map((m) => m.pid));
      this.#members = scanProcessTree(this.selection);
      this.#lastScanAt = performance.now();
      const newcomers = this.#members.filter((m) => !previous.has(m.pid));
      for (const signal of this.#signals) this.#sendEach(signal, newcomers);
    }
    if (this.#members.length === 0) {
      this.stop();
      this.onGone();
      return;
    }
    this.#timer = setTimeout(this.#check, TREE_POLL_MS);
  };
}

export interface StopTreesOptions {
  /** Between the graceful signals and SIGKILL. */
  readonly graceMs: number;
  /** Default SIGTERM, then SIGCONT so a stopped process can act on it. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Gives up this long after SIGKILL (a process in uninterruptible sleep, or not ours to kill); default never. */
  readonly giveUpAfterMs?: number;
}

/**
 * Stops whole trees (graceful signals, SIGKILL after the grace) and resolves when none of their
 * processes is left, or, past `giveUpAfterMs`, with those that would not go.
 */
export function stopProcessTrees(
  selection: ProcessTreeSelection,
  options: StopTreesOptions,
): Promise<{ readonly remaining: readonly ProcessIdentity[] }> {
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (remaining: readonly ProcessIdentity[]) => {
      for (const timer of timers) clearTimeout(timer);
      resolve({ remaining });
    };
    const signaller = new TreeSignaller(
      selection,
      () => undefined,
      () => finish([]),
    );
    timers.push(setTimeout(() => signaller.kill(), options.graceMs));
    if (options.giveUpAfterMs !== undefined) {
      timers.push(
        setTimeout(() => {
          signaller.stop();
          finish(signaller.remaining);
        }, options.graceMs + options.giveUpAfterMs),
      );
    }
    signaller.signal(options.signals ?? ['SIGTERM', 'SIGCONT']);
  });
}
