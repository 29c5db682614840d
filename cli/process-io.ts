import type { CliIo } from './io.js';
import { EXIT_CODE_OUTPUT_CLOSED } from './stop-signals.js';

/**
 * The command's input and output on this process's streams. When the reader of stdout or stderr
 * goes away (`lanevisor logs -f x | head -5`), writing to it fails with EPIPE, an error event
 * that, unhandled, ends the process with Node's stack trace. Instead that stream is written to
 * no more, and the command ends as SIGPIPE ends a Unix tool: a command that stops
 * cleanly on a signal (run, exec, serve, demo: their StopSignals listen through `onOutputClosed`) stops
 * so, ending what it started; any other leaves at once, as Ctrl-C would end it. Either exits 141.
 */
export function processIo(): CliIo {
  const closed = new Set<NodeJS.WriteStream>();
  const listeners = new Set<() => void>();
  const watch = (stream: NodeJS.WriteStream) =>
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      const first = closed.size === 0;
      closed.add(stream);
      if (!first) return;
      if (listeners.size === 0) process.exit(EXIT_CODE_OUTPUT_CLOSED);
      for (const listener of [...listeners]) listener();
    });
  const writerTo = (stream: NodeJS.WriteStream) => (text: string) => {
    if (!closed.has(stream)) stream.write(text);
  };
  watch(process.stdout);
  watch(process.stderr);
  return {
    stdout: writerTo(process.stdout),
    stderr: writerTo(process.stderr),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    stdin: process.stdin,
    terminalSize: () => ({ columns: process.stdout.columns ?? 80, rows: process.stdout.rows ?? 24 }),
    onResize: (listener) => {
      process.stdout.on('resize', listener);
      return () => process.stdout.off('resize', listener);
    },
    onOutputClosed: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
