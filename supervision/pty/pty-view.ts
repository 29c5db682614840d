import { isLanevisorError, LanevisorError } from '../../bus/errors.js';
import type { Pty, PtyExitResult } from './types.js';

/** Unacknowledged characters a viewer may have before it gets no more output (the contract's bound). */
export const VIEW_MAX_UNACKED_CHARS = 100_000;
/** A redraw whose screen could not be taken (a busy host timed out) is tried again after this long. */
export const VIEW_REDRAW_RETRY_MS = 250;

/** Where a view sends what its viewer is to show, in order. */
export interface PtyViewSink {
  /** Draw this screen instead of everything before it (first, and after falling behind). */
  screen(screen: { readonly data: string; readonly cols: number; readonly rows: number }): void;
  /** Output that follows what is shown. */
  output(data: string): void;
  /** The PTY is done; nothing follows. */
  exit(result: PtyExitResult): void;
  /** A screen could not be taken (the PTY is between generations); output goes on. */
  error(error: LanevisorError): void;
}

export interface PtyView {
  /** The viewer has shown this many more characters of output. */
  ack(chars: number): void;
  /** Stops the view; the sink hears nothing more. */
  close(): void;
}

export interface PtyViewOptions {
  readonly maxUnackedChars?: number;
  readonly scrollbackLines?: number;
}

interface HeldChunk {
  readonly data: string;
  readonly offset: number;
}

/**
 * One viewer of one PTY: its screen first, then exactly the output past that screen (every byte
 * once: output that arrived while the screen was taken and is already on it is cut by offset, the
 * rest follows). A viewer more than `maxUnackedChars` behind gets no more output; its next ack
 * brings a fresh screen, which replaces what it skipped. The PTY is never paused for a viewer.
 */
export function viewPty(pty: Pty, sink: PtyViewSink, options: PtyViewOptions = {}): PtyView {
  const maxUnacked = options.maxUnackedChars ?? VIEW_MAX_UNACKED_CHARS;
  const screenOptions = options.scrollbackLines === undefined ? {} : { scrollbackLines: options.scrollbackLines };
  let phase: 'screening' | 'live' | 'behind' | 'done' = 'screening';
  let unacked = 0;
  /** Output before this byte offset is on the screen the viewer has. */
  let shownUpTo = 0;
  let held: HeldChunk[] = [];
  let heldChars = 0;
  /** Output dropped while a screen was taken (the viewer would have been behind): the byte just past it. */
  let droppedUpTo = -1;
  let screening: Promise<void> = Promise.resolve();
  let shownOnce = false;
  let retry: NodeJS.Timeout | undefined;

  const deliver = (data: string, offset: number) => {
    let text = data;
    if (offset < shownUpTo) {
      const bytes = Buffer.from(data, 'utf8');
      if (offset + bytes.byteLength <= shownUpTo) return;
      text = bytes.subarray(shownUpTo - offset).toString('utf8');
    }
    if (unacked + text.length > maxUnacked) {
      // With nothing unacknowledged no ack will come to wake it (one chunk past the bound by
      // itself): redrawn at once instead of waiting forever.
      if (unacked === 0) takeScreen();
      else phase = 'behind';
      return;
    }
    unacked += text.length;
    sink.output(text);
  };

  const takeScreen = () => {
    phase = 'screening';
    held = [];
    heldChars = 0;
    droppedUpTo = -1;
    screening = pty.screen(screenOptions).then(
      (screen) => {
        if (phase === 'done') return;
        unacked = 0;
        shownOnce = true;
        shownUpTo = screen.offset;
        sink.screen({ data: screen.data, cols: screen.cols, rows: screen.rows });
        goLive();
        if (droppedUpTo > shownUpTo && phase === 'live') {
          // It missed output the screen does not show: behind, and with nothing to ack, redrawn now.
          if (unacked === 0) takeScreen();
          else phase = 'behind';
        }
      },
      (error: unknown) => {
        if (phase === 'done') return;
        sink.error(
          isLanevisorError(error)
            ? error
            : new LanevisorError('INTERNAL_ERROR', 'the terminal failed to draw its screen; reconnect to redraw it'),
        );
        if (!shownOnce) {
          // Nothing was shown yet, so nothing is skipped: the output from here on is all there is.
          goLive();
          return;
        }
        // A redraw: the viewer skipped output, which only a screen can make up for. Try again.
        phase = 'behind';
        retry = setTimeout(() => {
          if (phase === 'behind') takeScreen();
        }, VIEW_REDRAW_RETRY_MS);
        retry.unref();
      },
    );
  };

  const goLive = () => {
    phase = 'live';
    const waiting = held;
    held = [];
    heldChars = 0;
    for (const chunk of waiting) if (phase === 'live') deliver(chunk.data, chunk.offset);
  };

  const offData = pty.onData((data, offset) => {
    if (phase === 'live') deliver(data, offset);
    else if (phase === 'screening') {
      // Once something is dropped, so is all that follows: shown after the hole, a later chunk
      // that fits would be output the viewer takes for what came next.
      if (droppedUpTo >= 0 || heldChars + data.length > maxUnacked) {
        droppedUpTo = offset + Buffer.byteLength(data, 'utf8');
        return;
      }
      held.push({ data, offset });
      heldChars += data.length;
    }
  });
  takeScreen();

  void pty.exited.then(async (result) => {
    // The last screen's held output comes before the end (a redraw may start while one is awaited).
    for (let awaited: Promise<void> | undefined; awaited !== screening; ) {
      awaited = screening;
      await awaited;
    }
    if (phase === 'done') return;
    phase = 'done';
    clearTimeout(retry);
    offData();
    sink.exit(result);
  });

  return {
    ack(chars: number): void {
      unacked = Math.max(0, unacked - chars);
      if (phase === 'behind') takeScreen();
    },
    close(): void {
      phase = 'done';
      clearTimeout(retry);
      offData();
    },
  };
}
