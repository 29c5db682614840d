import { type EventEnvelope, plainLine } from '../index.js';

/** What the live views show of PTY output: complete lines, ANSI sequences and carriage returns removed. */
export class LineSplitter {
  #partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(plainLine(line));
  }

  /** The unfinished last line, if any, as a line. */
  end(): void {
    if (this.#partial !== '') this.onLine(plainLine(this.#partial));
    this.#partial = '';
  }
}

/** One row of a live status table. */
export interface StatusRow {
  readonly name: string;
  readonly state: string;
  readonly ptys: number;
  readonly lastLine: string;
  readonly startedAt: number;
  readonly endedAt?: number;
}

/** The rows and columns a live view may fill. */
export interface ViewSize {
  readonly columns: number;
  readonly rows: number;
}

/** How often live tables are redrawn on a terminal. */
export const LIVE_REFRESH_MS = 250;
const LAST_LINE_WIDTH = 48;
/** Narrower than this, the last output is not worth a column of its own: the line is cut instead. */
const MIN_LAST_LINE_WIDTH = 8;

/**
 * The live status table: lane, state, PTYs, last output line, elapsed. Fitted to `size`: every
 * line cut to the width (a wrapped line would turn the in-place redraw into scrolling) and, with
 * more lanes than rows, the lanes still at work first and one line counting the rest by state.
 */
export function statusTable(rows: readonly StatusRow[], now = Date.now(), size?: ViewSize): string {
  const capacity = size === undefined ? rows.length : Math.max(1, size.rows - 2);
  const ordered =
    rows.length <= capacity ? rows : [...rows.filter((r) => !isDone(r)), ...rows.filter((r) => isDone(r))];
  const shown = rows.length <= capacity ? ordered : ordered.slice(0, capacity - 1);
  const hidden = ordered.slice(shown.length);
  const cells = shown.map((row) => [
    row.name,
    row.state,
    String(row.ptys),
    row.lastLine,
    `${(((row.endedAt ?? now) - row.startedAt) / 1000).toFixed(1)} s`,
  ]);
  const header = ['LANE', 'STATE', 'PTYS', 'LAST OUTPUT', 'ELAPSED'];
  // The last output line gets what the other columns leave of the width, so ELAPSED stays in view.
  const others = [0, 1, 2, 4].reduce(
    (sum, column) => sum + Math.max(...[header, ...cells].map((cellRow) => displayWidth(cellRow[column] ?? ''))) + 2,
    0,
  );
  const lastWidth =
    size === undefined
      ? LAST_LINE_WIDTH
      : Math.max(MIN_LAST_LINE_WIDTH, Math.min(LAST_LINE_WIDTH, size.columns - 1 - others));
  for (const cellRow of cells) cellRow[3] = cutToWidth(cellRow[3] as string, lastWidth);
  const lines = table([header, ...cells]).split('\n');
  if (hidden.length > 0) lines.push(`… ${hidden.length} more: ${countByState(hidden)}`);
  return lines.map((line) => (size === undefined ? line : cutToWidth(line, size.columns - 1))).join('\n');
}

function isDone(row: StatusRow): boolean {
  return row.endedAt !== undefined;
}

function countByState(rows: readonly StatusRow[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
}

/**
 * Redraws a block of lines in place on a terminal (cursor up, clear to the end). It remembers how
 * wide its lines were, so after the terminal got narrower (and rewrapped them) it still moves up
 * over all of them.
 */
export class LiveBlock {
  #widths: number[] = [];

  constructor(private readonly write: (text: string) => void) {}

  draw(text: string, columns?: number): void {
    const rowsNow = this.#widths.reduce(
      (sum, width) => sum + (columns === undefined ? 1 : Math.max(1, Math.ceil(width / columns))),
      0,
    );
    const up = rowsNow > 0 ? `\u001b[${rowsNow}A\u001b[J` : '';
    this.write(`${up}${text}\n`);
    this.#widths = text.split('\n').map(displayWidth);
  }
}

/** Columns a string takes on a terminal: wide (CJK, emoji) characters two, combining marks none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0) as number);
  return width;
}

/** The longest prefix of `text` that fits `width` columns, ending in `…` when something was cut. */
export function cutToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let kept = '';
  let used = 0;
  for (const char of text) {
    const next = charWidth(char.codePointAt(0) as number);
    if (used + next > width - 1) break;
    kept += char;
    used += next;
  }
  return `${kept}…`;
}

function charWidth(code: number): number {
  if (code < 0x20 || (code >= 0x7f && code < 0xa0) || (code >= 0x300 && code <= 0x36f) || code === 0x200d) return 0;
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Remembers a lane's name (its label, else its id) as `lane.created` announces it. */
export function noteLaneName(names: Map<string, string>, event: EventEnvelope): void {
  const payload = event.payload as { laneId?: string; label?: string | null };
  if (event.topic === 'lane.created' && payload.laneId) names.set(payload.laneId, payload.label ?? payload.laneId);
}

/** One lifecycle event as a line for people: time, topic, lane, and what matters in its payload. */
export function describeEvent(event: EventEnvelope, names: ReadonlyMap<string, string>): string {
  const payload = event.payload as Record<string, unknown>;
  const laneId = typeof payload.laneId === 'string' ? payload.laneId : undefined;
  const who = laneId === undefined ? '' : ` ${names.get(laneId) ?? laneId}`;
  const time = new Date(event.timestamp).toISOString().slice(11, 23);
  const step =
    event.topic === 'lane.setup_step'
      ? ` ${payload.index}/${payload.total} ${payload.kind} ${JSON.stringify(payload.target)}`
      : '';
  const detail = (['to', 'exitCode', 'signal', 'generation', 'ref', 'branch', 'reason', 'activity', 'message'] as const)
    .filter((key) => payload[key] !== undefined && payload[key] !== null)
    .map((key) => `${key}=${String(payload[key])}`)
    .join(' ');
  return `${time} ${event.topic}${who}${step}${detail ? ` ${detail}` : ''}`;
}

/** Columns padded to their widest cell (in terminal columns). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column] ?? '')))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - displayWidth(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
