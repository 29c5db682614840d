import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io.js';
import { EXIT_CODE_OUTPUT_CLOSED, type StopSignal, StopSignals } from '../../cli/stop-signals.js';

/** An io whose output can be closed on demand, as processIo's is when `| head` has what it wanted. */
function closableIo() {
  let stderr = '';
  const closedListeners = new Set<() => void>();
  const io: CliIo = {
    stdout: () => undefined,
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    onOutputClosed: (listener) => {
      closedListeners.add(listener);
      return () => closedListeners.delete(listener);
    },
  };
  return {
    io,
    closeOutput: () => {
      for (const listener of [...closedListeners]) listener();
    },
    stderr: () => stderr,
    listening: () => closedListeners.size,
  };
}

/** The handler this StopSignals put on SIGINT (the newest one), called as the signal would call it. */
function deliverSigint(): void {
  const handler = process.listeners('SIGINT').at(-1) as () => void;
  handler();
}

/** A StopSignals on `output`, the stops it hears, for `check`; its handlers are gone afterwards, whatever fails. */
function withStopSignals(
  output: ReturnType<typeof closableIo>,
  check: (stop: StopSignals, heard: StopSignal[]) => void,
) {
  const stop = new StopSignals(output.io, 'stopping and cleaning up');
  try {
    const heard: StopSignal[] = [];
    stop.onStop((signal) => heard.push(signal));
    check(stop, heard);
  } finally {
    stop.dispose();
  }
}

describe('StopSignals and a closed output', () => {
  it('stops the command as a first signal does, with exit code 141 and a line saying why', () => {
    const output = closableIo();
    withStopSignals(output, (stop, heard) => {
      output.closeOutput();
      expect(heard).toEqual(['SIGPIPE']);
      expect(stop.signal).toBe('SIGPIPE');
      expect(stop.exitCode).toBe(EXIT_CODE_OUTPUT_CLOSED);
      expect(output.stderr()).toBe('lanevisor: the output was closed: stopping and cleaning up\n');
    });
    expect(output.listening()).toBe(0);
  });

  it('after Ctrl-C, a closed output (its reader ended by the same Ctrl-C) is not the second signal', () => {
    const output = closableIo();
    withStopSignals(output, (stop, heard) => {
      deliverSigint();
      // A second stop would call process.exit: this test would not get past the next line.
      output.closeOutput();
      expect(heard).toEqual(['SIGINT']);
      expect(stop.exitCode).toBe(130);
      expect(output.stderr()).toBe('lanevisor: SIGINT: stopping and cleaning up (again to leave at once)\n');
    });
  });
});
