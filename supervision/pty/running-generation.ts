import type { PtySession } from '../../actors/pty/backend.js';
import type { ActivityClock, ActivityWatch, PtyActivity } from './activity-watch.js';
import { IdleWatch } from './idle-watch.js';
import type { PtyScreenAt } from './types.js';

export interface RunningGenerationOptions {
  readonly idleTimeoutMs: number | null;
  readonly activity: ActivityClock;
  /** The silence reached the idle timeout. */
  readonly onIdle: () => void;
  readonly onActivity: (activity: PtyActivity) => void;
}

/**
 * The terminal of the generation that runs now, from its spawn to its end: its session, where
 * its output offsets start in the PTY's own count, and the idle and activity watches on it. A
 * handle outlives its generations; this is what one generation's start sets and its end clears.
 */
export class RunningGeneration {
  #session: PtySession | undefined;
  /** The PTY's output offset where the session's count is 0. */
  #sessionBase = 0;
  #pid = 0;
  #activity: ActivityWatch | undefined;
  readonly #idle: IdleWatch;

  constructor(private readonly options: RunningGenerationOptions) {
    this.#idle = new IdleWatch(options.idleTimeoutMs, options.onIdle);
  }

  /** The last generation's pid, kept after it ended (0 before the first spawn). */
  get pid(): number {
    return this.#pid;
  }

  get session(): PtySession | undefined {
    return this.#session;
  }

  get activity(): PtyActivity | null {
    return this.#activity?.activity ?? null;
  }

  get silentForMs(): number {
    return this.#idle.silentForMs;
  }

  /** A generation spawned; `outputTotal` is the PTY's byte count so far. */
  begin(session: PtySession, outputTotal: number): void {
    const { pid } = session.started;
    this.#pid = pid;
    this.#session = session;
    // Both counts grow by every chunk of the generation, so their difference maps one onto the other.
    this.#sessionBase = outputTotal - session.outputOffset;
    this.#idle.start();
    this.#activity?.stop();
    this.#activity = this.options.activity.watch(pid, this.options.idleTimeoutMs, this.options.onActivity);
  }

  /** Output arrived. */
  touch(): void {
    this.#idle.touch();
    this.#activity?.touch();
  }

  /** Input was written to the terminal. */
  input(): void {
    this.#activity?.input();
  }

  /** The screen from the session's mirror, its offset in the PTY's count. */
  async screen(session: PtySession, scrollbackLines: number | undefined): Promise<PtyScreenAt> {
    const base = this.#sessionBase;
    const screen = await session.snapshot(scrollbackLines === undefined ? {} : { scrollbackLines });
    return { data: screen.data, cols: screen.cols, rows: screen.rows, offset: base + screen.offset };
  }

  /** The generation ended: no session, no activity. */
  end(): void {
    this.#session = undefined;
    this.#activity?.stop();
    this.#activity = undefined;
  }

  /** No generation follows. */
  stop(): void {
    this.#idle.stop();
  }
}
