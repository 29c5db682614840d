import headlessPackage from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { MIRROR_MAX_BACKLOG_BYTES, TerminalMirror } from '../../../actors/pty/terminal-mirror.js';

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
});
