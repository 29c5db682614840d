import { afterEach, describe, expect, it } from 'vitest';
import type { Pty } from '../../../supervision/pty/types.js';
import { createPtyFixture } from '../../support/pty-fixture.js';
import { screenOf, Terminal, writeTo as write } from '../../support/terminal-screen.js';
import { sleep, waitUntil } from '../../support/wait.js';

let fixture: ReturnType<typeof createPtyFixture>;
afterEach(async () => {
  await fixture?.dispose();
});

/** A viewer that was there from the start: every byte of the PTY's output, in order. */
function watchFromTheStart(pty: Pty) {
  const terminal = new Terminal({ cols: pty.cols, rows: pty.rows, scrollback: 1_000, allowProposedApi: true });
  let written = Promise.resolve();
  let lastAt = Date.now();
  void (async () => {
    for await (const chunk of pty.output()) {
      lastAt = Date.now();
      written = written.then(() => write(terminal, chunk));
    }
  })();
  return {
    terminal,
    /** Until what it shows satisfies `shows`. */
    async showing(shows: (lines: readonly string[]) => boolean, what: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        await written;
        if (shows(screenOf(terminal).lines)) return;
        if (Date.now() > deadline)
          throw new Error(`the screen never showed ${what}: ${screenOf(terminal).lines.join('|')}`);
        await sleep(20);
      }
    },
    /** Until the program has printed nothing for a while and everything is parsed. */
    async settled(quietMs = 300): Promise<void> {
      await waitUntil(() => Date.now() - lastAt > quietMs, 'the program to go quiet', 10_000);
      await written;
    },
  };
}

/** The snapshot written into a fresh terminal of the PTY's size must show what the viewer from the start sees. */
async function expectSnapshotToMatch(pty: Pty, watcher: ReturnType<typeof watchFromTheStart>) {
  await watcher.settled();
  const fresh = new Terminal({ cols: pty.cols, rows: pty.rows, scrollback: 1_000, allowProposedApi: true });
  await write(fresh, await pty.snapshot());
  expect(screenOf(fresh)).toEqual(screenOf(watcher.terminal));
  return screenOf(fresh);
}

describe('pty.snapshot()', () => {
  it('replays a running vim: its alternate screen, text and cursor', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({
      command: 'vim',
      args: ['-u', 'NONE', '-N', '-n', '+call setline(1, ["first line", "second line"])', '+2'],
      cols: 60,
      rows: 12,
    });
    const watcher = watchFromTheStart(pty);
    await watcher.settled();
    pty.write('A appended\u001b');
    await watcher.showing((lines) => lines[1] === 'second line appended', 'the edit');
    const screen = await expectSnapshotToMatch(pty, watcher);
    expect(screen.screen).toBe('alternate');
    expect(screen.lines.slice(0, 2)).toEqual(['first line', 'second line appended']);
    pty.write(':q!\r');
  });

  it('replays a pager, a progress bar drawn with carriage returns, colours and wide characters', async () => {
    fixture = createPtyFixture();
    const pager = await fixture.spawn({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', 'seq 1 300 | less'],
      cols: 50,
      rows: 10,
      env: { LESS: '' },
    });
    const pagerWatcher = watchFromTheStart(pager);
    await pagerWatcher.settled();
    pager.write(' ');
    await pagerWatcher.showing((lines) => lines[0] === '10', 'the next page');
    expect((await expectSnapshotToMatch(pager, pagerWatcher)).lines[0]).toBe('10');

    const script = [
      'for i in 10 40 70 100; do printf "\\rbuilding [%3d%%]" $i; sleep 0.05; done; echo',
      'printf "\\033[31mred\\033[0m \\033[1;32mbold green\\033[0m plain\\n"',
      'printf "wide: 日本語のテキスト 🚀 done\\n"',
      'seq 1 40',
    ].join('; ');
    const shell = await fixture.spawn({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', `${script}; sleep 30`],
    });
    const watcher = watchFromTheStart(shell);
    const screen = await expectSnapshotToMatch(shell, watcher);
    expect(screen.lines.at(-2)).toBe('40');
    // History above the screen is in the snapshot too (up to the asked-for lines).
    const history = new Terminal({ cols: shell.cols, rows: shell.rows, scrollback: 1_000, allowProposedApi: true });
    await write(history, await shell.snapshot({ scrollbackLines: 1_000 }));
    const all: string[] = [];
    for (let row = 0; row < history.buffer.active.length; row++) {
      all.push(history.buffer.active.getLine(row)?.translateToString(true) ?? '');
    }
    expect(all).toContain('building [100%]');
    expect(all).toContain('red bold green plain');
    expect(all).toContain('wide: 日本語のテキスト 🚀 done');
    const colours = await shell.snapshot();
    expect(colours).toContain('\u001b[31m');
  });

  it('follows a resize, and is refused for a PTY that ended', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({
      command: 'bash',
      args: [
        '--norc',
        '--noprofile',
        '-c',
        'trap \'echo "size $(tput cols)x$(tput lines)"\' WINCH; echo ready; while :; do sleep 0.05; done',
      ],
    });
    const watcher = watchFromTheStart(pty);
    await watcher.settled();
    // The viewer from the start resizes with the PTY, before anything printed after the resize.
    watcher.terminal.resize(100, 30);
    pty.resize(100, 30);
    await sleep(200);
    const screen = await expectSnapshotToMatch(pty, watcher);
    expect(screen.lines.join('\n')).toContain('size 100x30');
    await pty.terminate({ graceMs: 200 });
    await expect(pty.snapshot()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(pty.snapshot({ scrollbackLines: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
