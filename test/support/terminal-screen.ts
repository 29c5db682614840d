import headlessPackage from '@xterm/headless';
import { spawn as spawnTerminal } from 'node-pty';
import { waitUntil } from './wait.js';

/** A terminal as a person looks at it, for tests: xterm.js without a display. */
export const { Terminal } = headlessPackage;
export type HeadlessTerminal = InstanceType<typeof Terminal>;

/** What a person sees: the visible lines, the cursor, and which screen (a full-screen program's or the normal one). */
export function screenOf(terminal: HeadlessTerminal) {
  const buffer = terminal.buffer.active;
  const lines: string[] = [];
  for (let row = 0; row < terminal.rows; row++)
    lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
  return { lines, cursor: [buffer.cursorX, buffer.cursorY], screen: buffer.type };
}

/** Writes into the terminal and resolves once it parsed it. */
export const writeTo = (terminal: HeadlessTerminal, data: string) =>
  new Promise<void>((resolve) => terminal.write(data, resolve));

/** A program running in a real terminal of the test's (node-pty), with what a person would see of it. */
export function programInTerminal(
  file: string,
  args: readonly string[],
  size: { readonly cols: number; readonly rows: number; readonly cwd?: string },
) {
  const terminal = spawnTerminal(file, [...args], {
    cols: size.cols,
    rows: size.rows,
    ...(size.cwd === undefined ? {} : { cwd: size.cwd }),
    env: process.env as Record<string, string>,
  });
  const screen = new Terminal({ cols: size.cols, rows: size.rows, allowProposedApi: true });
  let raw = '';
  terminal.onData((data) => {
    raw += data;
    screen.write(data);
  });
  const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
  const visible = () => screenOf(screen).lines.join('\n');
  return {
    terminal,
    exited,
    raw: () => raw,
    visible,
    shows: (text: string, what = text) =>
      waitUntil(() => visible().includes(text), `the terminal to show ${what}`, 15_000),
  };
}
