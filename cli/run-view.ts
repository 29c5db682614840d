import type { Bus, EventEnvelope, Lane, Pty } from '../index.js';
import type { CliIo } from './io.js';
import {
  describeEvent,
  LIVE_REFRESH_MS,
  LineSplitter,
  LiveBlock,
  type StatusRow,
  statusTable,
  table,
} from './lane-view.js';
import { SetupProgress } from './setup-progress.js';

/** One lane of a `lanevisor run`, from before it exists to its summary line. */
export interface LaneSlot {
  /** Its label, or `#1`, `#2`, … in the order asked for. */
  readonly name: string;
  readonly label: string | undefined;
  /** The correlation id of its createLane: its events are matched to it by this. */
  readonly correlationId: string;
  lane?: Lane;
  pty?: Pty;
  lastLine: string;
  readonly startedAt: number;
  endedAt?: number;
  exit?: { readonly exitCode: number | null; readonly signal: string | null };
  /** Why the lane could not be made, or its command not started. */
  error?: { readonly code: string; readonly message: string };
  interrupted?: boolean;
  log?: string;
  salvagedRef: string | null;
  kept: boolean;
}

export type RunMode = 'json' | 'live' | 'lines';

/** What a person (or a program, with `--json`) sees of a run: events, output lines or a live table, then a summary. */
export class RunView {
  readonly #names = new Map<string, string>();
  readonly #setup = new SetupProgress();
  readonly #live: LiveBlock | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopResize: (() => void) | undefined;
  #slots: readonly LaneSlot[] = [];
  #lookup: (laneId: string) => Lane | undefined = () => undefined;
  #finished = false;

  constructor(
    readonly mode: RunMode,
    private readonly io: CliIo,
    bus: Bus,
  ) {
    this.#live = mode === 'live' ? new LiveBlock(io.stdout) : undefined;
    bus.subscribe('**', (event) => this.#onEvent(event), { queueLimit: 1_000_000 });
  }

  /**
   * The lanes to show, each learning its Lane from `lane.created` (through `lookup`) while it is
   * still being made; a live table starts redrawing (on a timer and on SIGWINCH).
   */
  show(slots: readonly LaneSlot[], lookup: (laneId: string) => Lane | undefined): void {
    this.#slots = slots;
    this.#lookup = lookup;
    if (this.#live === undefined) return;
    this.#timer = setInterval(() => this.redraw(), LIVE_REFRESH_MS);
    this.#stopResize = this.io.onResize?.(() => this.redraw());
    this.redraw();
  }

  redraw(): void {
    const size = this.io.terminalSize?.();
    this.#live?.draw(
      statusTable(
        this.#slots.map((slot) => rowOf(slot, this.#setup)),
        Date.now(),
        size,
      ),
      size?.columns,
    );
  }

  /** A line of a lane's output: prefixed `[name] ` when printing lines, the last line of its row otherwise. */
  outputLines(slot: LaneSlot): LineSplitter {
    return new LineSplitter((line) => {
      if (line.trim() !== '') slot.lastLine = line;
      if (this.mode === 'lines') this.io.stdout(`[${slot.name}] ${line}\n`);
    });
  }

  /** The last drawing of the table, then the summary (in JSON, always the last line). */
  finish(slots: readonly LaneSlot[], extra: Record<string, unknown> = {}): void {
    this.close();
    // The summary ends the output: what the runtime's shutdown publishes after it is not shown.
    this.#finished = true;
    if (this.#live) this.redraw();
    if (this.mode === 'json') {
      this.io.stdout(`${JSON.stringify({ type: 'summary', lanes: slots.map(summaryOf), ...extra })}\n`);
      return;
    }
    const done = slots.filter((slot) => slot.lane !== undefined || slot.error !== undefined);
    if (done.length === 0) return;
    const rows = done.map((slot) => {
      const summary = summaryOf(slot);
      return [
        slot.name,
        summary.laneId ?? '-',
        exitText(slot),
        `${(summary.durationMs / 1000).toFixed(1)} s`,
        summary.branch === null ? '-' : slot.kept ? summary.branch : `${summary.branch} (removed)`,
        summary.log ?? '-',
        summary.salvagedRef ?? '-',
      ];
    });
    this.io.stdout(`${table([['LANE', 'ID', 'EXIT', 'DURATION', 'BRANCH', 'LOG', 'SALVAGED'], ...rows])}\n`);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopResize?.();
    this.#stopResize = undefined;
  }

  #onEvent(event: EventEnvelope): void {
    if (event.topic === 'lane.created') {
      const slot = this.#slots.find((s) => s.correlationId === event.correlationId);
      const laneId = (event.payload as { laneId: string }).laneId;
      this.#names.set(laneId, slot?.name ?? laneId);
      const lane = slot?.lane === undefined ? this.#lookup(laneId) : undefined;
      if (slot !== undefined && lane !== undefined) slot.lane = lane;
    }
    this.#setup.observe(event);
    if (this.#finished) return;
    if (this.mode === 'json') this.io.stdout(`${JSON.stringify(event)}\n`);
    else if (this.mode === 'lines' && event.topic !== 'pty.output') {
      this.io.stdout(`${describeEvent(event, this.#names)}\n`);
    }
  }
}

/** What a person reads in the STATE column: the lane's state (`setup 2/5` while it is made), or what its command is doing. */
export function stateOf(slot: LaneSlot, setup: SetupProgress): string {
  if (slot.error !== undefined) return `failed: ${slot.error.code}`;
  const lane = slot.lane;
  if (lane === undefined) return slot.interrupted ? 'interrupted' : 'new';
  if (lane.state === 'cleaning' || lane.state === 'closed' || lane.state === 'provisioning') return setup.stateOf(lane);
  if (slot.exit !== undefined) return slot.kept ? `kept, ${exitText(slot)}` : `exited ${exitText(slot)}`;
  const pty = slot.pty;
  if (pty === undefined) return lane.state;
  return pty.activity === 'waiting' ? 'waiting for input' : 'running';
}

function rowOf(slot: LaneSlot, setup: SetupProgress): StatusRow {
  return {
    name: slot.name,
    state: stateOf(slot, setup),
    ptys: slot.lane?.ptys().length ?? 0,
    lastLine: slot.lastLine,
    startedAt: slot.startedAt,
    ...(slot.endedAt === undefined ? {} : { endedAt: slot.endedAt }),
  };
}

function exitText(slot: LaneSlot): string {
  if (slot.error !== undefined) return slot.error.code;
  if (slot.exit === undefined) return slot.interrupted ? 'interrupted' : '-';
  return slot.exit.exitCode === null ? (slot.exit.signal ?? '?') : String(slot.exit.exitCode);
}

/** The summary of one lane (`--json`'s `lanes[]`). */
function summaryOf(slot: LaneSlot) {
  return {
    name: slot.name,
    laneId: slot.lane?.id ?? null,
    branch: slot.lane?.branch ?? null,
    exitCode: slot.exit?.exitCode ?? null,
    signal: slot.exit?.signal ?? null,
    durationMs: (slot.endedAt ?? Date.now()) - slot.startedAt,
    log: slot.log ?? null,
    salvagedRef: slot.salvagedRef,
    kept: slot.kept,
    ...(slot.interrupted ? { interrupted: true } : {}),
    ...(slot.error ? { error: slot.error } : {}),
  };
}
