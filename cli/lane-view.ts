import type { EventEnvelope, Lane } from '../index.js';
import { table } from './options.js';

/** What the live views show of PTY output: complete lines, ANSI sequences and carriage returns removed. */
export class LineSplitter {
  #partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(plain(line));
  }

  /** The unfinished last line, if any, as a line. */
  end(): void {
    if (this.#partial !== '') this.onLine(plain(this.#partial));
    this.#partial = '';
  }
}

// CSI and OSC sequences, then what a carriage return overwrote.
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences begin with ESC (and OSC ends with BEL).
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function plain(line: string): string {
  const withoutAnsi = line.replace(ANSI, '');
  const afterReturn = withoutAnsi.split('\r').filter((part) => part !== '');
  return afterReturn.at(-1) ?? '';
}

export interface LaneRow {
  readonly lane: Lane;
  lastLine: string;
  readonly startedAt: number;
  endedAt?: number;
}

export function laneName(lane: Pick<Lane, 'id' | 'label'>): string {
  return lane.label ?? lane.id;
}

const LAST_LINE_WIDTH = 48;
/** How often live tables are redrawn on a terminal. */
export const LIVE_REFRESH_MS = 250;

/** The live status table: lane, state, PTYs, last output line, elapsed. */
export function statusTable(rows: readonly LaneRow[], now = Date.now()): string {
  return table([
    ['LANE', 'STATE', 'PTYS', 'LAST OUTPUT', 'ELAPSED'],
    ...rows.map((row) => [
      laneName(row.lane),
      row.lane.state,
      String(row.lane.ptys().length),
      row.lastLine.length > LAST_LINE_WIDTH ? `${row.lastLine.slice(0, LAST_LINE_WIDTH - 1)}…` : row.lastLine,
      `${(((row.endedAt ?? now) - row.startedAt) / 1000).toFixed(1)} s`,
    ]),
  ]);
}

/** Redraws a block of lines in place on a terminal (cursor up, clear to the end). */
export class LiveBlock {
  #lines = 0;

  constructor(private readonly write: (text: string) => void) {}

  draw(text: string): void {
    const up = this.#lines > 0 ? `\u001b[${this.#lines}A\u001b[J` : '';
    this.write(`${up}${text}\n`);
    this.#lines = text.split('\n').length;
  }
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
  const detail = (['to', 'exitCode', 'signal', 'generation', 'ref', 'branch', 'reason'] as const)
    .filter((key) => payload[key] !== undefined && payload[key] !== null)
    .map((key) => `${key}=${String(payload[key])}`)
    .join(' ');
  return `${time} ${event.topic}${who}${detail ? ` ${detail}` : ''}`;
}
