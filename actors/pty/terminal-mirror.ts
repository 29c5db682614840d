import serializePackage from '@xterm/addon-serialize';
import headlessPackage from '@xterm/headless';
import { DEFAULT_SCROLLBACK_LINES } from './backend.js';

const { Terminal } = headlessPackage;
const { SerializeAddon } = serializePackage;

/**
 * A headless terminal (xterm.js) fed a PTY's output, so that its screen — history, the alternate
 * screen of a running vim, cursor, modes — can be handed to a viewer that comes late
 * (`pty.snapshot()`), as VS Code replays its terminals. xterm parses about 21-25 MiB/s where a
 * PTY delivers about 60 (pty-host-facts.md), so the mirror must never be what a PTY's output
 * waits for: output is only queued here, and parsed when the PTY has gone quiet or before a
 * snapshot. A mirror that parses when quiet (the terminal host's) also parses a queue past
 * MIRROR_EAGER_BYTES meanwhile, one step at a time, and all the mirrors of a process together
 * spend at most MIRROR_EAGER_SHARE of its time so: fifty flooding PTYs must not hold the event
 * loop fifty times as long as one. The terminal itself is made on first need.
 * A queue past MIRROR_MAX_BACKLOG_BYTES (a flood nobody looked at) keeps only its newest half, and
 * the mirror starts again from there: the screen a flood leaves is what its last bytes drew. After
 * such a drop nothing is parsed until quiet (or a snapshot): the flood outruns the eager share, so
 * the next drop would throw the parsed screen away again (in a 100 MB flood that was a tenth of the
 * host's time, and most of its garbage collection, spent on screens nobody saw).
 */
/** Output parsed once the PTY printed nothing for this long. */
export const MIRROR_QUIET_MS = 50;
/** Queued output past this is parsed without waiting for quiet. */
export const MIRROR_EAGER_BYTES = 256 * 1024;
/** The most output queued for the mirror; past it the oldest half goes. */
export const MIRROR_MAX_BACKLOG_BYTES = 2 * 1024 * 1024;
/** Parsed per step, so one step never holds the event loop for long. */
const PARSE_STEP_BYTES = 64 * 1024;
/**
 * Parsed per step before quiet: about a millisecond. A PTY's kernel buffer holds 4 KiB, so while
 * the host parses, the program writing to it waits; short steps keep those waits short.
 */
const EAGER_STEP_BYTES = 16 * 1024;
/** The share of a process's time that parsing before quiet may take, all its mirrors together. */
export const MIRROR_EAGER_SHARE = 0.1;

/** How long one eager step may keep the others waiting, at most. */
const EAGER_STEP_LONGEST_MS = 1_000;
/** When the next eager step of any mirror may start (shared: the budget is the process's). */
let eagerStepAllowedAt = 0;

/** Output as a terminal read it (bytes) or as text (a restored screen); xterm takes either. */
type Output = string | Uint8Array;
type Pending = { readonly data: Output } | { readonly cols: number; readonly rows: number };

export class TerminalMirror {
  #terminal: InstanceType<typeof Terminal> | undefined;
  #serializer: InstanceType<typeof SerializeAddon> | undefined;
  /** Queued output and sizes from `#head` on (a queue without O(n) shifts). */
  #pending: Pending[] = [];
  #head = 0;
  #pendingBytes = 0;
  /** Chunks of output queued and not parsed yet. */
  #pendingChunks = 0;
  #lastPushAt = 0;
  #changes = 0;
  #restart = false;
  /**
   * Output was dropped since the PTY last went quiet: it prints faster than the eager share can
   * parse, and every drop starts the screen again, so what an eager step parses now would be
   * thrown away with the next drop. Until quiet, nothing is parsed but for a snapshot.
   */
  #overrun = false;
  #timer: NodeJS.Timeout | undefined;
  #parsing: Promise<void> | undefined;
  #disposed = false;

  constructor(
    private cols: number,
    private rows: number,
    private readonly scrollbackLines: number = DEFAULT_SCROLLBACK_LINES,
    /**
     * Parse when the PTY goes quiet (snapshots stay fast; a terminal object per PTY that printed),
     * or only when a snapshot is asked for (no memory for PTYs nobody looks at: the inline backend).
     */
    private readonly parseWhenQuiet = true,
  ) {}

  push(data: Output): void {
    if (this.#disposed || data.length === 0) return;
    this.#changes++;
    this.#pending.push({ data });
    this.#pendingBytes += data.length;
    this.#pendingChunks++;
    if (this.#pendingBytes > MIRROR_MAX_BACKLOG_BYTES) this.#dropOldest();
    if (!this.parseWhenQuiet) return;
    const now = performance.now();
    this.#lastPushAt = now;
    if (
      this.#pendingBytes >= MIRROR_EAGER_BYTES &&
      !this.#overrun &&
      this.#parsing === undefined &&
      now >= eagerStepAllowedAt
    ) {
      this.#parsing = this.#eagerStep(now).finally(() => {
        this.#parsing = undefined;
      });
    }
    this.#timer ??= this.#quietTimer(MIRROR_QUIET_MS);
  }

  /** Takes effect in order with the output around it. */
  resize(cols: number, rows: number): void {
    if (this.#disposed) return;
    this.#pending.push({ cols, rows });
  }

  /**
   * The screen, history (at most `scrollbackLines` lines) and modes, as escape sequences. As
   * `history` (what a program started again shows above its own output), only the normal screen
   * and its history: no alternate screen, no modes left on.
   */
  async snapshot(scrollbackLines: number = this.scrollbackLines, history = false): Promise<string> {
    await this.#catchUp();
    return this.#serialize(scrollbackLines, history);
  }

  /**
   * The normal screen and its history as parsed so far, without waiting for the output still
   * queued (a flood's backlog would hold the host for as long as it takes to parse), with the
   * `changes` count it shows.
   */
  parsedHistory(): { readonly data: string; readonly changes: number } {
    return { data: this.#serialize(this.scrollbackLines, true), changes: this.#changes - this.#pendingChunks };
  }

  /**
   * The normal screen and its history to keep: a small queue is parsed first (a PTY that prints
   * a line now and then never goes quiet for long), a flood's backlog is not (see parsedHistory).
   */
  async historyToKeep(): Promise<{ readonly data: string; readonly changes: number }> {
    if (this.#pendingBytes <= MIRROR_EAGER_BYTES) await this.#catchUp();
    return this.parsedHistory();
  }

  #serialize(scrollbackLines: number, history: boolean): string {
    return (
      this.#serializer?.serialize({
        scrollback: Math.min(scrollbackLines, this.scrollbackLines),
        ...(history ? { excludeAltBuffer: true, excludeModes: true } : {}),
      }) ?? ''
    );
  }

  /** Grows with every chunk of output: a value other than one read earlier means something new was shown. */
  get changes(): number {
    return this.#changes;
  }

  get size(): { readonly cols: number; readonly rows: number } {
    return { cols: this.cols, rows: this.rows };
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#pending = [];
    this.#head = 0;
    this.#pendingChunks = 0;
    this.#terminal?.dispose();
    this.#terminal = undefined;
  }

  /** One timer per quiet period, not one per chunk: when it fires early, it waits for the rest. */
  #quietTimer(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const quietFor = performance.now() - this.#lastPushAt;
      this.#timer = quietFor >= MIRROR_QUIET_MS ? undefined : this.#quietTimer(MIRROR_QUIET_MS - quietFor);
      if (this.#timer !== undefined) return;
      this.#overrun = false;
      void this.#catchUp();
    }, ms);
    timer.unref();
    return timer;
  }

  /** One step of parsing, then the next step of any mirror waits so that parsing keeps to its share. */
  async #eagerStep(startedAt: number): Promise<void> {
    // No other mirror's step meanwhile; the bound holds should this one never finish (disposed).
    eagerStepAllowedAt = startedAt + EAGER_STEP_LONGEST_MS;
    try {
      await this.#parse(1, EAGER_STEP_BYTES);
    } finally {
      const took = performance.now() - startedAt;
      eagerStepAllowedAt = performance.now() + (took * (1 - MIRROR_EAGER_SHARE)) / MIRROR_EAGER_SHARE;
    }
  }

  /** Parses everything queued (one step at a time), after any step under way. */
  async #catchUp(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#parsing !== undefined) await this.#parsing;
    if (this.#head >= this.#pending.length) return;
    this.#parsing = this.#parse(Number.POSITIVE_INFINITY).finally(() => {
      this.#parsing = undefined;
    });
    await this.#parsing;
  }

  async #parse(steps: number, stepBytes = PARSE_STEP_BYTES): Promise<void> {
    for (let done = 0; done < steps && !this.#disposed && this.#head < this.#pending.length; done++) {
      const terminal = this.#terminalNow();
      const step: Output[] = [];
      let taken = 0;
      let stepChunks = 0;
      while (this.#head < this.#pending.length && taken < stepBytes) {
        const next = this.#pending[this.#head] as Pending;
        if ('cols' in next) {
          if (step.length > 0) break;
          this.#head++;
          this.cols = next.cols;
          this.rows = next.rows;
          terminal.resize(next.cols, next.rows);
          continue;
        }
        this.#head++;
        this.#pendingBytes -= next.data.length;
        stepChunks++;
        taken += next.data.length;
        step.push(next.data);
      }
      this.#compact();
      if (step.length > 0) await writeAll(terminal, step);
      // Counted as parsed only once xterm has parsed them: parsedHistory() must show what it counts.
      if (!this.#disposed) this.#pendingChunks -= stepChunks;
    }
  }

  #compact(): void {
    if (this.#head === this.#pending.length) {
      this.#pending = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
  }

  #terminalNow(): InstanceType<typeof Terminal> {
    if (this.#restart && this.#terminal !== undefined) {
      this.#terminal.reset();
      this.#restart = false;
    }
    if (this.#terminal === undefined) {
      this.#terminal = new Terminal({
        cols: this.cols,
        rows: this.rows,
        scrollback: this.scrollbackLines,
        allowProposedApi: true,
      });
      this.#serializer = new SerializeAddon();
      this.#terminal.loadAddon(this.#serializer);
      this.#restart = false;
    }
    return this.#terminal;
  }

  /** Keeps the newest half of the queue (whole chunks; sizes in order with them) and starts the screen again. */
  #dropOldest(): void {
    while (this.#pendingBytes > MIRROR_MAX_BACKLOG_BYTES / 2 && this.#pending.length - this.#head > 1) {
      const oldest = this.#pending[this.#head++] as Pending;
      if ('cols' in oldest) {
        this.cols = oldest.cols;
        this.rows = oldest.rows;
        this.#terminal?.resize(oldest.cols, oldest.rows);
      } else {
        this.#pendingBytes -= oldest.data.length;
        this.#pendingChunks--;
      }
    }
    this.#compact();
    this.#restart = true;
    this.#overrun = true;
  }
}

/** Writes in order, neighbours of a kind joined (one parse call per step); resolves once xterm parsed the last. */
function writeAll(terminal: InstanceType<typeof Terminal>, pieces: readonly Output[]): Promise<void> {
  const runs: Output[][] = [];
  for (const piece of pieces) {
    const run = runs.at(-1);
    if (run !== undefined && typeof run[0] === typeof piece) run.push(piece);
    else runs.push([piece]);
  }
  return new Promise<void>((resolve) => {
    runs.forEach((run, index) => {
      const joined = typeof run[0] === 'string' ? run.join('') : Buffer.concat(run as Uint8Array[]);
      terminal.write(joined, index === runs.length - 1 ? resolve : undefined);
    });
  });
}
