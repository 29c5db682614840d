/** How much of a PTY's newest output is looked at for its last line: a peek, never the whole scrollback. */
export const LAST_LINE_WINDOW_CHARS = 4096;
/** A last line is a glance in a list, not a log: longer ones end with an ellipsis. */
export const LAST_LINE_MAX_CHARS = 200;

// CSI; OSC, DCS, PM, APC and SOS strings; ESC with intermediates (`ESC ( B`); the other ESC pairs.
const ANSI =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences begin with ESC (and OSC ends with BEL).
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[\]P^_X][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[ -/]+[0-~]|\u001b[@-Z\\-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the C0 controls other than tab, newline and \r, which no reader wants to see.
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** One line as a person reads it: escapes and controls removed, and only what the last `\r` redrew. */
export function plainLine(line: string): string {
  const visible = line.replace(ANSI, '').replace(CONTROLS, '');
  return (
    visible
      .split('\r')
      .filter((part) => part !== '')
      .at(-1) ?? ''
  );
}

/** The last non-blank line of a terminal's output, shortened for a list; null when nothing printable came. */
export function lastLineOf(output: string): string | null {
  const lines = output.split('\n');
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = plainLine(lines[index] as string).trim();
    if (line !== '') return line.length > LAST_LINE_MAX_CHARS ? `${line.slice(0, LAST_LINE_MAX_CHARS - 1)}…` : line;
  }
  return null;
}
