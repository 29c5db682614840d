import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import { LanevisorError } from '../../bus/errors.js';
import { readProcStat } from '../process/proc.js';
import { TreeSignaller } from '../process/tree-signaller.js';

/**
 * Runs one command without a shell, in its own session and process group, and ends its whole
 * tree (the group, the session, and every process carrying its tag) when it times out or is
 * aborted: SIGTERM, then SIGKILL after the grace.
 */
export interface CommandRequest {
  readonly argv: readonly string[];
  readonly cwd: string;
  /** The complete environment (nothing is inherited on top of it). */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** The variable (and value) that marks every process the command starts. */
  readonly tag: { readonly name: string; readonly value: string };
  readonly graceMs: number;
  readonly signal?: AbortSignal;
  /** Piped to the command's stdin until the command ends (else its stdin is /dev/null). */
  readonly stdin?: NodeJS.ReadableStream;
  /** Output as it comes, besides the result's whole `stdout` and `stderr`. */
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
}

export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

/** Output beyond this is cut (execa's maxBuffer): a command is not a log pipe. */
export const MAX_COMMAND_OUTPUT_BYTES = 64 * 1024 * 1024;

export async function runCommand(request: CommandRequest): Promise<CommandResult> {
  const [file, ...args] = request.argv;
  if (file === undefined) throw new LanevisorError('INVALID_ARGUMENT', 'argv must name a command');
  const started = performance.now();
  const child = execa(file, args, {
    cwd: request.cwd,
    env: request.env,
    extendEnv: false,
    reject: false,
    stdin: request.stdin === undefined ? 'ignore' : 'pipe',
    detached: true,
    cleanup: true,
    maxBuffer: MAX_COMMAND_OUTPUT_BYTES,
    // The caller gets the output exactly as written.
    stripFinalNewline: false,
  });
  const unpipe = forwardStdin(request.stdin, child.stdin);
  streamText(child.stdout, request.onStdout);
  streamText(child.stderr, request.onStderr);
  let timedOut = false;
  let stopping: Promise<void> | undefined;
  const stopTree = (): void => {
    const pid = child.pid;
    if (pid === undefined || stopping) return;
    const leader = { pid, startTime: readProcStat(pid)?.startTime ?? -1 };
    stopping = new Promise<void>((resolve) => {
      const signaller = new TreeSignaller({ leader, tag: request.tag }, () => undefined, resolve);
      signaller.signal(['SIGTERM']);
      setTimeout(() => signaller.kill(), request.graceMs).unref();
    });
  };
  const timer =
    request.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          stopTree();
        }, request.timeoutMs);
  request.signal?.addEventListener('abort', stopTree, { once: true });
  const result = await child;
  unpipe();
  clearTimeout(timer);
  request.signal?.removeEventListener('abort', stopTree);
  await stopping;
  if (result.failed && result.exitCode === undefined && result.signal === undefined) {
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
    throw new LanevisorError(
      'SPAWN_ERROR',
      code === 'ENOENT' ? `command not found: ${file}` : `could not start ${file}: ${result.shortMessage}`,
      { details: { argv: [...request.argv], code } },
    );
  }
  return {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    durationMs: Math.round(performance.now() - started),
    timedOut,
  };
}

/** Pipes `source` into the child's stdin; a child that stops reading (EPIPE) is not an error. Returns the undo. */
function forwardStdin(
  source: NodeJS.ReadableStream | undefined,
  target: NodeJS.WritableStream | null | undefined,
): () => void {
  if (source === undefined || !target) return () => undefined;
  target.on('error', () => undefined);
  source.pipe(target);
  return () => {
    source.unpipe(target);
    source.pause();
  };
}

/** Calls `listener` with each chunk as text; a character split between chunks is held until it is whole. */
function streamText(stream: NodeJS.ReadableStream | null | undefined, listener: ((chunk: string) => void) | undefined) {
  if (!stream || listener === undefined) return;
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    if (text !== '') listener(text);
  });
  stream.on('end', () => {
    const rest = decoder.end();
    if (rest !== '') listener(rest);
  });
}
