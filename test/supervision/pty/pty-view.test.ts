import { afterEach, describe, expect, it } from 'vitest';
import { type PtyView, VIEW_MAX_UNACKED_CHARS, viewPty } from '../../../supervision/pty/pty-view.js';
import type { Pty, PtyExitResult } from '../../../supervision/pty/types.js';
import { createPtyFixture } from '../../support/pty-fixture.js';
import { type HeadlessTerminal, screenOf, Terminal, writeTo } from '../../support/terminal-screen.js';
import { sleep, waitUntil } from '../../support/wait.js';

let fixture: ReturnType<typeof createPtyFixture>;
afterEach(async () => {
  await fixture?.dispose();
});

/** Numbered lines, 200 per write and a write a millisecond, for about FLOOD_MS after a line of input; then `DONE <count>`. */
const FLOOD_MS = 1_500;
const FLOOD = `process.stdin.once('data', () => { process.stdin.pause(); let i = 0; const end = Date.now() + ${FLOOD_MS};
const tick = () => { let s = ''; for (let k = 0; k < 200; k++) s += 'L' + i++ + '\\n';
process.stdout.write(s, () => (Date.now() < end ? setTimeout(tick, 1) : process.stdout.write('DONE ' + i + '\\n'))); };
tick(); });`;

async function startFlood(): Promise<{ pty: Pty; output: Buffer[] }> {
  fixture = createPtyFixture();
  const pty = await fixture.spawn({ command: process.execPath, args: ['-e', FLOOD], cols: 80, rows: 24 });
  const output: Buffer[] = [];
  let expected = 0;
  pty.onData((chunk, offset) => {
    // Offsets run on without a gap from the first chunk heard.
    if (output.length > 0) expect(offset).toBe(expected);
    const bytes = Buffer.from(chunk, 'utf8');
    expected = offset + bytes.byteLength;
    output.push(bytes);
  });
  pty.write('go\r');
  return { pty, output };
}

/** The rest of a sink for tests that look at screens and output only: an error fails the test. */
const SCREEN_AND_OUTPUT_ONLY = {
  exit: () => undefined,
  error: (error: Error) => {
    throw error;
  },
};

function terminalOf(rows: number, scrollback: number): HeadlessTerminal {
  return new Terminal({ cols: 80, rows, scrollback, allowProposedApi: true });
}

/** Every line the terminal holds, its history included. */
function allLines(terminal: HeadlessTerminal): string[] {
  const buffer = terminal.buffer.active;
  const lines: string[] = [];
  for (let row = 0; row < buffer.length; row++) lines.push(buffer.getLine(row)?.translateToString(true) ?? '');
  return lines;
}

describe('pty.screen() and viewPty', () => {
  it('a screen taken during a flood shows exactly the output up to its offset', async () => {
    const { pty, output } = await startFlood();
    // Asked for while it prints (a screen of a flood takes a while to draw: they are not awaited in turn).
    const asked: Array<Promise<{ data: string; offset: number }>> = [];
    for (let taken = 0; taken < 5; taken++) {
      await sleep(FLOOD_MS / 7);
      asked.push(pty.screen());
    }
    const screens = await Promise.all(asked);
    const exit = await pty.exited;
    expect(exit.exitCode).toBe(0);
    const all = Buffer.concat(output);
    expect(all.toString('utf8')).toMatch(/DONE \d+\r\n$/);
    // The screens were taken while it printed, not after.
    expect(screens[0]?.offset).toBeLessThan(all.byteLength);
    for (const screen of screens) {
      const shown = terminalOf(24, 1_000);
      await writeTo(shown, screen.data);
      const replayed = terminalOf(24, 1_000);
      await writeTo(replayed, all.subarray(0, screen.offset).toString('utf8'));
      expect(screenOf(shown)).toEqual(screenOf(replayed));
      shown.dispose();
      replayed.dispose();
    }
  });

  it('every view, begun at any moment of a flood, shows each line exactly once', async () => {
    const { pty } = await startFlood();
    const views: Array<{ stream: string[]; screens: number; exit?: PtyExitResult; view?: PtyView }> = [];
    for (let begun = 0; begun < 4; begun++) {
      await sleep(FLOOD_MS / 5);
      const entry: (typeof views)[number] = { stream: [], screens: 0 };
      entry.view = viewPty(pty, {
        screen: (screen) => {
          // A screen replaces everything before it.
          entry.screens++;
          entry.stream = [screen.data];
        },
        output: (data) => {
          entry.stream.push(data);
          // A viewer that keeps up (it may still miss what came while a flood's screen was drawn).
          queueMicrotask(() => entry.view?.ack(data.length));
        },
        exit: (result) => {
          entry.exit = result;
        },
        error: (error) => {
          throw error;
        },
      });
      views.push(entry);
    }
    await pty.exited;
    await sleep(50);
    for (const entry of views) {
      expect(entry.exit).toEqual({ exitCode: 0, signal: null });
      expect(entry.screens).toBeGreaterThanOrEqual(1);
      const terminal = terminalOf(24, 500_000);
      await writeTo(terminal, entry.stream.join(''));
      const lines = allLines(terminal).filter((line) => line !== '');
      const done = /^DONE (\d+)$/.exec(lines.at(-1) ?? '');
      expect(done, lines.slice(-3).join('|')).not.toBeNull();
      const numbers = lines.slice(0, -1).map((line) => Number(/^L(\d+)$/.exec(line)?.[1] ?? Number.NaN));
      const first = numbers[0] as number;
      // Consecutive from the first line on the screen to the last printed: no gap, no line twice.
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, k) => first + k));
      expect(first + numbers.length).toBe(Number(done?.[1]));
      terminal.dispose();
    }
  });

  it('a viewer that never acks stops at the bound, and its ack brings a fresh screen', async () => {
    const { pty } = await startFlood();
    await sleep(FLOOD_MS / 4);
    let printed = 0;
    pty.onData((chunk) => {
      printed += chunk.length;
    });
    const seen: Array<{ kind: 'screen' | 'output'; chars: number }> = [];
    const view = viewPty(pty, {
      screen: (screen) => seen.push({ kind: 'screen', chars: screen.data.length }),
      output: (data) => seen.push({ kind: 'output', chars: data.length }),
      exit: () => undefined,
      error: (error) => {
        throw error;
      },
    });
    await waitUntil(() => seen.length > 0, 'the first screen');
    await sleep(FLOOD_MS / 5);
    const outputChars = seen.filter((one) => one.kind === 'output').reduce((sum, one) => sum + one.chars, 0);
    expect(seen[0]?.kind).toBe('screen');
    expect(outputChars).toBeGreaterThan(0);
    expect(outputChars).toBeLessThanOrEqual(VIEW_MAX_UNACKED_CHARS);
    // It was the bound that stopped it: the PTY printed more meanwhile.
    expect(printed).toBeGreaterThan(2 * VIEW_MAX_UNACKED_CHARS);
    const before = seen.length;
    view.ack(outputChars);
    await pty.exited;
    expect(seen.slice(before).some((one) => one.kind === 'screen')).toBe(true);
    view.close();
  });

  it('a chunk past the bound by itself, with nothing unacknowledged, brings a fresh screen instead of a stall', async () => {
    const { pty } = await startFlood();
    const seen: Array<{ kind: 'screen' | 'output'; chars: number }> = [];
    let view: PtyView | undefined;
    // A bound smaller than one chunk of the flood, and a viewer that acks all it gets at once:
    // it has nothing left to ack, so only the view itself can go on.
    view = viewPty(
      pty,
      {
        screen: (screen) => seen.push({ kind: 'screen', chars: screen.data.length }),
        output: (data) => {
          seen.push({ kind: 'output', chars: data.length });
          queueMicrotask(() => view?.ack(data.length));
        },
        ...SCREEN_AND_OUTPUT_ONLY,
      },
      { maxUnackedChars: 10 },
    );
    await pty.exited;
    await sleep(100);
    // Screen after screen while it floods (the old view stopped for good at the first big chunk).
    expect(seen.filter((one) => one.kind === 'screen').length).toBeGreaterThan(2);
    view.close();
  });
  it('output dropped while a screen is taken is never followed by output past the hole before a new screen', async () => {
    // Writes of 20 lines and of 400 lines in turn: while a screen is taken, a big chunk overflows
    // the held output and a small one after it would still fit.
    const program = `let i = 0; let k = 0; const end = Date.now() + ${FLOOD_MS};
const tick = () => { let s = ''; const n = k++ % 2 === 0 ? 20 : 400; for (let j = 0; j < n; j++) s += 'L' + i++ + '\\n';
process.stdout.write(s, () => (Date.now() < end ? setTimeout(tick, 1) : process.stdout.write('DONE ' + i + '\\n'))); };
tick();`;
    fixture = createPtyFixture();
    const pty = await fixture.spawn({ command: process.execPath, args: ['-e', program], cols: 80, rows: 24 });
    let view: PtyView | undefined;
    let screens = 0;
    let gaps = 0;
    let lines = 0;
    let last: number | undefined;
    let partial = '';
    view = viewPty(
      pty,
      {
        screen: () => {
          // Told: what came before is replaced, counting starts again (a screen may end mid-line).
          screens++;
          last = undefined;
          partial = '';
        },
        output: (data) => {
          const parts = (partial + data).split('\r\n');
          partial = parts.pop() ?? '';
          for (const line of parts) {
            const match = /^L(\d+)$/.exec(line);
            if (match === null) continue;
            const n = Number(match[1]);
            if (last !== undefined && n !== last + 1) gaps++;
            last = n;
            lines++;
          }
          // Acked a little late, as a page does after parsing: it falls behind now and then.
          setTimeout(() => view?.ack(data.length), 5);
        },
        ...SCREEN_AND_OUTPUT_ONLY,
      },
      { maxUnackedChars: 4_000 },
    );
    await pty.exited;
    await sleep(50);
    view.close();
    // It fell behind (screens after the first) and showed numbered lines between them, none skipped.
    expect({ screens: screens > 2, lines: lines > 100, gaps }, JSON.stringify({ screens, lines, gaps })).toEqual({
      screens: true,
      lines: true,
      gaps: 0,
    });
  });
  it('after output was dropped while a screen was taken, nothing past the hole is shown before the next screen', async () => {
    // The interleaving the flood above makes only now and then, made exactly: a fake PTY whose
    // screen answers when told (viewPty's logic alone; the real PTYs are the tests above).
    let emit: (data: string, offset: number) => void = () => undefined;
    const screens: Array<(offset: number) => void> = [];
    const fake = {
      onData: (listener: (data: string, offset: number) => void) => {
        emit = listener;
        return () => undefined;
      },
      screen: () =>
        new Promise((resolve) => screens.push((offset) => resolve({ data: '', cols: 80, rows: 24, offset }))),
      exited: new Promise(() => undefined),
    } as unknown as Pty;
    const seen: string[] = [];
    const view = viewPty(
      fake,
      {
        screen: () => seen.push('<screen>'),
        output: (data) => seen.push(data),
        ...SCREEN_AND_OUTPUT_ONLY,
      },
      { maxUnackedChars: 100 },
    );
    emit('a'.repeat(60), 0);
    // Past the bound with what is held: dropped.
    emit('b'.repeat(60), 60);
    // Would fit again, but follows the hole.
    emit('c'.repeat(30), 120);
    screens.shift()?.(0);
    await sleep(0);
    expect(seen).toEqual(['<screen>', 'a'.repeat(60)]);
    // Its ack brings the screen that makes up for the hole; output goes on from there.
    view.ack(60);
    screens.shift()?.(150);
    await sleep(0);
    emit('d'.repeat(10), 150);
    expect(seen).toEqual(['<screen>', 'a'.repeat(60), '<screen>', 'd'.repeat(10)]);
    view.close();
  });
});
