import { LanevisorError } from '../../bus/errors.js';
import { readProcStat } from '../process/proc.js';
import { resolveExecutable } from '../process/resolve-executable.js';
import { TreeSignaller } from '../process/tree-signaller.js';
import type { PtyBackend, PtyScreen, PtySession, PtySessionEvents, PtyStarted, PtyStartRequest } from './backend.js';
import type { PtyDriver, PtyProcess } from './driver.js';
import { PacedWriter } from './paced-writer.js';
import { TerminalMirror } from './terminal-mirror.js';
import { incompleteTail, streamTail, Utf8Pieces } from './utf8-pieces.js';

/** A local session's events: its output as the bytes read (the inline backend decodes them: `textEvents`). */
export type LocalSessionEvents = Omit<PtySessionEvents, 'data'> & { bytes(chunk: Buffer): void };

/**
 * A terminal run in this process: the driver's child, its paced input and the signaller of its
 * whole process tree. The inline backend hands these out directly; the terminal host runs the same
 * sessions and serves them over its socket.
 */
export class LocalPtySession implements PtySession {
  readonly #input: PacedWriter;
  readonly #signaller: TreeSignaller;
  readonly #mirror: TerminalMirror;
  #closed = false;
  #outputBytes = 0;
  /** The output's last bytes: a character they begin is not delivered (nor shown) before its rest comes. */
  #outputTail: Uint8Array = new Uint8Array(0);

  private constructor(
    private readonly child: PtyProcess,
    readonly started: PtyStarted,
    request: PtyStartRequest,
    events: LocalSessionEvents,
    mirrorWhenQuiet: boolean,
  ) {
    this.#input = new PacedWriter(child, request.maxPendingInputBytes);
    this.#mirror = new TerminalMirror(request.spawn.cols, request.spawn.rows, request.scrollbackLines, mirrorWhenQuiet);
    if (request.preface !== undefined) this.#mirror.push(request.preface);
    this.#signaller = new TreeSignaller(
      { leader: { pid: started.pid, startTime: started.startTime }, tag: request.tag },
      (record) => events.signaled(record),
      () => events.treeGone(),
    );
    child.onData((chunk) => {
      this.#outputBytes += chunk.byteLength;
      this.#outputTail = streamTail(this.#outputTail, chunk);
      this.#mirror.push(chunk);
      events.bytes(chunk);
    });
    child.onExit((exit) => {
      this.#input.close();
      events.exited(exit);
    });
  }

  /**
   * Resolves the command, forks it in a terminal and reads its start time; SPAWN_ERROR when it
   * cannot. `mirrorWhenQuiet`: see TerminalMirror (the host keeps its mirrors parsed, inline PTYs
   * parse on a snapshot only).
   */
  static start(
    driver: PtyDriver,
    request: PtyStartRequest,
    events: LocalSessionEvents,
    mirrorWhenQuiet = false,
  ): LocalPtySession {
    const { spawn } = request;
    const file = resolveExecutable(spawn.file, spawn.cwd, spawn.env.PATH);
    if (file === undefined) {
      throw new LanevisorError('SPAWN_ERROR', `command not found or not executable: ${spawn.file}`, {
        details: { command: spawn.file },
      });
    }
    let child: PtyProcess;
    try {
      child = driver.spawn({ ...spawn, file });
    } catch (error) {
      throw new LanevisorError('SPAWN_ERROR', `could not start ${file}: ${(error as Error).message}`, { cause: error });
    }
    // A child that already exited and was reaped has no stat: its start time cannot matter any more.
    const startTime = readProcStat(child.pid)?.startTime ?? 0;
    const started = { pid: child.pid, pgid: child.pid, sid: child.pid, startTime, ptsName: child.ptsName, file };
    return new LocalPtySession(child, started, request, events, mirrorWhenQuiet);
  }

  get pendingInputBytes(): number {
    return this.#input.pendingBytes;
  }

  /** The start of a character whose rest has not come: read, not shown on a screen nor delivered yet. */
  get heldOutput(): Uint8Array {
    const tail = this.#outputTail;
    return tail.subarray(tail.byteLength - incompleteTail(tail));
  }

  /** Past the last whole character (the inline backend decodes whole characters only; a mirror shows only them). */
  get outputOffset(): number {
    return this.#outputBytes - incompleteTail(this.#outputTail);
  }

  write(data: string | Uint8Array): void {
    this.#input.write(data);
  }

  resize(cols: number, rows: number): void {
    this.#mirror.resize(cols, rows);
    this.child.resize(cols, rows);
  }

  /** Grows with every chunk of output shown: a value other than one read earlier means something new. */
  get screenChanges(): number {
    return this.#mirror.changes;
  }

  /**
   * The normal screen and its history, to show above the program when it is started again after
   * a reboot, and the count of output chunks it shows (TerminalMirror.historyToKeep).
   */
  historyToKeep(): Promise<{ readonly data: string; readonly changes: number }> {
    return this.#mirror.historyToKeep();
  }

  async snapshot(options: { readonly scrollbackLines?: number } = {}): Promise<PtyScreen> {
    const data = await this.#mirror.snapshot(options.scrollbackLines);
    // Output arrives in I/O callbacks, never between the mirror's last parse and this line.
    return { data, ...this.#mirror.size, offset: this.outputOffset };
  }

  signalGroup(signal: string): void {
    this.#signaller.signalGroup(signal as NodeJS.Signals);
  }

  signalTree(signals: readonly string[]): void {
    this.#signaller.signal(signals as NodeJS.Signals[]);
  }

  killTree(): void {
    this.#signaller.kill();
  }

  pause(): void {
    this.child.pause();
  }

  resume(): void {
    this.child.resume();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signaller.stop();
    this.#input.close();
    this.#mirror.dispose();
    this.child.dispose();
  }
}

/** `host: 'inline'`: terminals in the orchestrator's own process, on the given driver (node-pty's by default). */
export function createInlinePtyBackend(driver: PtyDriver): PtyBackend {
  return {
    kind: 'inline',
    start: async (request, events) => LocalPtySession.start(driver, request, textEvents(events)),
  };
}

/** Output decoded for a session's owner in this process; a character cut off by the end comes out as U+FFFD. */
function textEvents(events: PtySessionEvents): LocalSessionEvents {
  const text = new Utf8Pieces();
  return {
    ...events,
    bytes: (chunk) => {
      const decoded = text.write(chunk);
      if (decoded.length > 0) events.data(decoded, text.decodedBytes);
    },
    exited: (exit) => {
      const rest = text.end();
      if (rest.length > 0) events.data(rest, text.decodedBytes);
      events.exited(exit);
    },
  };
}
