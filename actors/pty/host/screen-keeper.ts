import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostedPty } from './hosted-pty.js';

/**
 * Every few seconds the host writes the screen (normal screen and history, as escape sequences)
 * of each PTY that showed something new to `<stateDir>/screens/<ptyId>.ansi`, so that after a
 * reboot, or once a linger ran out, a runtime that starts the PTY again can show what it showed
 * above the program's new output (VS Code's "history restored"). A PTY its runtime closed has its
 * file removed; one the host ended after its linger, or lost with the host, keeps it.
 * A screen is serialized only when something new was shown since its last write: one of 1,000
 * lines takes 7-17 ms, and three hundred unchanged ones held the host for seconds every pass.
 * Between screens the host serves its sockets (keystrokes, output), and passes together take at
 * most SCREEN_PERSIST_SHARE of the host's time: under a flood of changes they come less often.
 */
export const SCREENS_DIR = 'screens';
export const SCREEN_PERSIST_MS = 5_000;
/** The most of the host's time that keeping screens may take. */
export const SCREEN_PERSIST_SHARE = 0.05;

export function screenFileOf(stateDir: string, ptyId: string): string {
  return join(stateDir, SCREENS_DIR, `${ptyId}.ansi`);
}

export class ScreenKeeper {
  readonly #written = new WeakMap<HostedPty, number>();
  #running: Promise<void> | undefined;
  /** No pass starts before this (performance.now()), so that passes keep to their share. */
  #nextPassAt = 0;
  /** PTYs forgotten while the pass under way runs: their screens are not written again. */
  readonly #forgotten = new Set<string>();

  constructor(
    private readonly stateDir: string,
    private readonly log: (line: string) => void,
    private readonly share = SCREEN_PERSIST_SHARE,
  ) {}

  /** Writes the screens that changed since the last time (one pass at a time; none while the last one's share runs). */
  persist(ptys: Iterable<HostedPty>): Promise<void> {
    if (this.#running === undefined && performance.now() < this.#nextPassAt) return Promise.resolve();
    this.#running ??= this.#persist([...ptys]).finally(() => {
      this.#running = undefined;
      this.#forgotten.clear();
    });
    return this.#running;
  }

  /** The PTY is done for good: its screen is not needed any more. */
  forget(ptyId: string): void {
    if (this.#running !== undefined) this.#forgotten.add(ptyId);
    rmSync(screenFileOf(this.stateDir, ptyId), { force: true });
  }

  async #persist(ptys: readonly HostedPty[]): Promise<void> {
    let busyMs = 0;
    for (const pty of ptys) {
      if (this.#forgotten.has(pty.ptyId) || this.#written.get(pty) === pty.session.screenChanges) continue;
      const started = performance.now();
      await this.#keep(pty);
      busyMs += performance.now() - started;
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.#nextPassAt = performance.now() + (busyMs * (1 - this.share)) / this.share;
  }

  async #keep(pty: HostedPty): Promise<void> {
    try {
      // A flood's backlog is not parsed for this (it is once the PTY goes quiet, and kept on the next pass).
      const { data: screen, changes } = await pty.session.historyToKeep();
      // Forgotten while its screen was being taken: a file now would outlive the PTY.
      if (this.#forgotten.has(pty.ptyId) || this.#written.get(pty) === changes) return;
      const file = screenFileOf(this.stateDir, pty.ptyId);
      mkdirSync(join(this.stateDir, SCREENS_DIR), { recursive: true, mode: 0o700 });
      writeFileSync(`${file}.tmp`, screen, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      this.#written.set(pty, changes);
    } catch (error) {
      this.log(`could not keep the screen of ${pty.ptyId}: ${(error as Error).message}`);
    }
  }
}
