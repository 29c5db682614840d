import { closeSync, constants as fsConstants, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { ReadStream } from 'node:tty';
import type { PtyDriver, PtyExit, PtyProcess, PtySpawnRequest } from './driver.js';

/**
 * node-pty's native binding, used directly rather than through its UnixTerminal class: that class
 * destroys the output stream 200 ms after the child exits, which loses the tail of a fast-exiting
 * child's output (node-pty #726). Here the output stream stays open until it is drained.
 */
interface NativePty {
  fork(
    file: string,
    args: string[],
    env: string[],
    cwd: string,
    cols: number,
    rows: number,
    uid: number,
    gid: number,
    utf8: boolean,
    helperPath: string,
    onExit: (exitCode: number, signal: number) => void,
  ): { fd: number; pid: number; pty: string };
  resize(fd: number, cols: number, rows: number, pixelWidth: number, pixelHeight: number): void;
}

const require = createRequire(import.meta.url);
const native = (require('node-pty') as { native: NativePty | null }).native;

/** No output for this long after the child exited: the master is taken as drained (see #drainAfterExit). */
export const EXIT_DRAIN_QUIET_MS = 20;
/** After the slave side is released, the output stream closes at once unless a descendant still holds it. */
export const EXIT_CLOSE_TIMEOUT_MS = 250;
/** Unused by Linux (macOS's spawn helper); node-pty's fork requires a string. */
const NO_SPAWN_HELPER = '';
const UNCHANGED_ID = -1;

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, number]) => [number, name]),
);

export function signalName(signal: number): string | null {
  return signal === 0 ? null : (SIGNAL_NAMES.get(signal) ?? `SIG${signal}`);
}

export const nodePtyDriver: PtyDriver = {
  spawn(request: PtySpawnRequest): PtyProcess {
    if (native === null) throw new Error('node-pty has no native binding on this platform');
    return NodePtyProcess.spawn(native, request);
  },
};

class NodePtyProcess implements PtyProcess {
  #dataListener: (chunk: Buffer) => void = () => undefined;
  #exitListener: (exit: PtyExit) => void = () => undefined;
  #stream: ReadStream | undefined;
  /** Our own descriptor of the slave side: while it is open the kernel keeps unread output. */
  #slaveHold: number | undefined;
  #exit: PtyExit | undefined;
  #paused = false;
  #closed = false;
  #lastDataAt = 0;
  #drainTimer: NodeJS.Timeout | undefined;
  #closeTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly native: NativePty,
    readonly pid: number,
    readonly fd: number,
    readonly ptsName: string,
  ) {}

  static spawn(native: NativePty, request: PtySpawnRequest): NodePtyProcess {
    let created: NodePtyProcess | undefined;
    let earlyExit: PtyExit | undefined;
    const env = Object.entries(request.env).map(([key, value]) => `${key}=${value}`);
    const term = native.fork(
      request.file,
      [...request.args],
      env,
      request.cwd,
      request.cols,
      request.rows,
      UNCHANGED_ID,
      UNCHANGED_ID,
      true,
      NO_SPAWN_HELPER,
      (exitCode, signal) => {
        const exit = { exitCode: signal === 0 ? exitCode : null, signal: signalName(signal) };
        if (created) created.#childExited(exit);
        else earlyExit = exit;
      },
    );
    const child = new NodePtyProcess(native, term.pid, term.fd, term.pty);
    try {
      // Opened right after fork, before the child can have exited: see #drainAfterExit.
      child.#slaveHold = openSync(term.pty, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
      child.#openStream();
    } catch (error) {
      child.dispose();
      throw error;
    }
    created = child;
    if (earlyExit) child.#childExited(earlyExit);
    return child;
  }

  write(data: Uint8Array): number {
    if (this.#closed) throw new Error('the terminal is closed');
    try {
      return writeSync(this.fd, data);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      throw error;
    }
  }

  resize(cols: number, rows: number): void {
    if (this.#closed) return;
    try {
      this.native.resize(this.fd, cols, rows, 0, 0);
    } catch {
      // The child exited in between (node-pty #827): there is nothing left to resize.
    }
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  pause(): void {
    this.#paused = true;
    this.#stream?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stream?.resume();
    if (this.#exit !== undefined) this.#scheduleDrainCheck();
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.#dataListener = listener;
  }

  onExit(listener: (exit: PtyExit) => void): void {
    this.#exitListener = listener;
  }

  dispose(): void {
    if (this.#exit === undefined) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.#close();
  }

  #openStream(): void {
    // Bytes, not text: the terminal host forwards them as they are, and text is decoded once,
    // where it is shown (decoding every read and encoding it again was work on every byte).
    const stream = new ReadStream(this.fd);
    stream.on('data', (chunk: Buffer) => {
      this.#lastDataAt = performance.now();
      this.#dataListener(chunk);
    });
    // EIO is how a master reports that no process holds the slave side any more.
    stream.on('error', () => this.#streamEnded());
    stream.on('close', () => this.#streamEnded());
    this.#stream = stream;
  }

  #childExited(exit: PtyExit): void {
    this.#exit = exit;
    this.#scheduleDrainCheck();
  }

  /**
   * The child has exited, but what it wrote may still sit in the kernel's buffer: while our slave
   * descriptor is open the kernel keeps it readable. Once no output has come for
   * EXIT_DRAIN_QUIET_MS (checked after an I/O poll, so a busy loop cannot fake the quiet), the
   * slave is released; the stream then ends, or is closed after EXIT_CLOSE_TIMEOUT_MS when a
   * descendant still holds the terminal.
   */
  #scheduleDrainCheck(): void {
    if (this.#closed || this.#paused || this.#drainTimer !== undefined || this.#closeTimer !== undefined) return;
    this.#drainTimer = setTimeout(() => {
      setImmediate(() => {
        this.#drainTimer = undefined;
        if (this.#closed || this.#paused) return;
        if (performance.now() - this.#lastDataAt < EXIT_DRAIN_QUIET_MS) {
          this.#scheduleDrainCheck();
          return;
        }
        this.#releaseSlave();
        this.#closeTimer = setTimeout(() => this.#streamEnded(), EXIT_CLOSE_TIMEOUT_MS);
      });
    }, EXIT_DRAIN_QUIET_MS);
  }

  #releaseSlave(): void {
    if (this.#slaveHold === undefined) return;
    const fd = this.#slaveHold;
    this.#slaveHold = undefined;
    closeSync(fd);
  }

  #streamEnded(): void {
    // Before the child's exit is known, an ended stream waits for it (the exit callback follows).
    if (this.#exit === undefined || this.#closed) return;
    const exit = this.#exit;
    this.#close();
    this.#exitListener(exit);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#drainTimer);
    clearTimeout(this.#closeTimer);
    this.#releaseSlave();
    if (this.#stream) this.#stream.destroy();
    else closeSync(this.fd);
  }
}
