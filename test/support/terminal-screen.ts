import headlessPackage from '@xterm/headless';

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
