import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostedPty } from './hosted-pty.js';

/**
 * Every few seconds the host writes the screen (normal screen and history, as escape sequences)
 * of each PTY that showed something new to `<stateDir>/screens/<ptyId>.ansi`, so that after a
 * reboot, or once a linger ran out, a runtime that starts the PTY again can show what it showed
 * above the program's new output (VS Code's "history restored"). A PTY its runtime closed has its
 * file removed; one the host ended after its linger, or lost with the host, keeps it.
 */
export const SCREENS_DIR = 'screens';
export const SCREEN_PERSIST_MS = 5_000;

export function screenFileOf(stateDir: string, ptyId: string): string {
  return join(stateDir, SCREENS_DIR, `${ptyId}.ansi`);
}

export class ScreenKeeper {
  readonly #written = new WeakMap<HostedPty, number>();
  #running: Promise<void> | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Writes the screens that changed since the last time (one pass at a time). */
  persist(ptys: Iterable<HostedPty>): Promise<void> {
    this.#running ??= this.#persist([...ptys]).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The PTY is done for good: its screen is not needed any more. */
  forget(ptyId: string): void {
    rmSync(screenFileOf(this.stateDir, ptyId), { force: true });
  }

  async #persist(ptys: readonly HostedPty[]): Promise<void> {
    for (const pty of ptys) {
      try {
        // A flood's backlog is not parsed for this (it is once the PTY goes quiet, and kept on the next pass).
        const { data: screen, changes } = await pty.session.historyToKeep();
        if (this.#written.get(pty) === changes) continue;
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
}
