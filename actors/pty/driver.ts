/**
 * A terminal driver: what runs one pseudo-terminal in this process (node-pty's binding), used by
 * a local PTY session (local-session.ts) in the orchestrator (`host: 'inline'`) or in the
 * terminal host. Synchronous, as the binding is; the asynchronous seam the rest of lanevisor
 * programs against is `PtyBackend` in backend.ts.
 */
export interface PtySpawnRequest {
  /** An absolute path to an executable (resolved against PATH beforehand). */
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cols: number;
  readonly rows: number;
}

export interface PtyExit {
  /** null when the child died of a signal. */
  readonly exitCode: number | null;
  /** The signal's name (`SIGKILL`), null when it exited. */
  readonly signal: string | null;
}

export interface PtyProcess {
  /** The child itself (the shell or command), leader of its own session and process group. */
  readonly pid: number;
  /** The slave side's device, e.g. /dev/pts/3. */
  readonly ptsName: string;
  /**
   * Writes what the terminal takes now, without blocking: returns the number of bytes accepted
   * (0 when its input buffer is full). Throws when the terminal is closed.
   */
  write(data: Uint8Array): number;
  /** Sets the window size; the child receives SIGWINCH. A no-op once the terminal is closed. */
  resize(cols: number, rows: number): void;
  /** Signals the child process itself (groups and sessions are the tree signaller's business). */
  signal(signal: NodeJS.Signals): void;
  /** Stops reading output: the child blocks on write, nothing is lost. */
  pause(): void;
  resume(): void;
  /**
   * Output, in order, as the bytes read (a multibyte character may be split between two chunks:
   * see Utf8Pieces). One listener.
   */
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once, after the child has exited and the last byte of its output has been delivered. */
  onExit(listener: (exit: PtyExit) => void): void;
  /** Last resort, synchronous: SIGKILL the child if alive and release every descriptor. */
  dispose(): void;
}

export interface PtyDriver {
  /** Throws when the process cannot be started (no such file, no descriptors left, …). */
  spawn(request: PtySpawnRequest): PtyProcess;
}
