import headlessPackage from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import {
  MIRROR_EAGER_BYTES,
  MIRROR_MAX_BACKLOG_BYTES,
  MIRROR_QUIET_MS,
  TerminalMirror,
} from '../../../actors/pty/terminal-mirror.js';
import { sleep, waitUntil } from '../../support/wait.js';

const { Terminal } = headlessPackage;

async function visibleLines(data: string, cols: number, rows: number): Promise<string[]> {
  const terminal = new Terminal({ cols, rows, scrollback: 100, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(data, resolve));
  const buffer = terminal.buffer.active;
  return Array.from(
    { length: rows },
    (_, row) => buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '',
  );
}

describe('the terminal mirror', () => {
  it('is empty until something was printed, and applies sizes in order with the output', async () => {
    const mirror = new TerminalMirror(20, 4, 10);
    expect(await mirror.snapshot()).toBe('');
    mirror.push('one\r\n');
    mirror.resize(30, 5);
    mirror.push('two');
    const snapshot = await mirror.snapshot();
    expect(mirror.size).toEqual({ cols: 30, rows: 5 });
    expect((await visibleLines(snapshot, 30, 5)).slice(0, 2)).toEqual(['one', 'two']);
    mirror.dispose();
  });

  it('keeps to its bound when flooded without being looked at: the screen is what the last bytes drew', async () => {
    const mirror = new TerminalMirror(40, 5, 100);
    const line = (n: number) => `line ${String(n).padStart(8, '0')} ${'x'.repeat(20)}\r\n`;
    const lines = Math.ceil((MIRROR_MAX_BACKLOG_BYTES * 2) / line(0).length);
    // Pushed in one go (no quiet in between, so nothing was parsed yet): more than the backlog holds.
    for (let n = 0; n < lines; n++) mirror.push(line(n));
    const screen = await visibleLines(await mirror.snapshot(), 40, 5);
    expect(screen.slice(0, 4)).toEqual([lines - 4, lines - 3, lines - 2, lines - 1].map((n) => line(n).trim()));
    mirror.dispose();
  });

  it('in the orchestrator (inline) parses nothing until a snapshot is asked for: its loop is never spent on it', async () => {
    const mirror = new TerminalMirror(40, 5, 100, false);
    const chunk = `${'y'.repeat(1023)}\n`;
    const chunks = Math.ceil((MIRROR_EAGER_BYTES * 2) / chunk.length);
    for (let n = 0; n < chunks; n++) mirror.push(chunk);
    mirror.push('last line');
    await sleep(MIRROR_QUIET_MS * 3);
    expect(mirror.parsedHistory()).toEqual({ data: '', changes: 0 });
    expect(await mirror.snapshot()).toContain('last line');
    expect(mirror.parsedHistory().changes).toBe(chunks + 1);
    mirror.dispose();
  });

  it('in the host parses a backlog while output keeps coming, and all of it once quiet', async () => {
    const mirror = new TerminalMirror(40, 5, 100, true);
    const chunk = `${'z'.repeat(1023)}\n`;
    let pushed = 0;
    // Output that never pauses for the quiet time: only the eager steps parse meanwhile.
    const until = performance.now() + 300;
    while (performance.now() < until) {
      for (let n = 0; n < 64; n++, pushed++) mirror.push(chunk);
      await sleep(5);
    }
    const meanwhile = mirror.parsedHistory().changes;
    expect(meanwhile).toBeGreaterThan(0);
    expect(meanwhile).toBeLessThan(pushed);
    mirror.push('quiet now');
    // Once quiet, all of it, without anyone asking for a snapshot.
    await waitUntil(() => mirror.parsedHistory().changes === pushed + 1, 'the whole backlog parsed');
    const parsed = mirror.parsedHistory();
    expect(parsed.data).toContain('quiet now');
    mirror.dispose();
  });
});
