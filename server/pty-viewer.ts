import type { WebSocket } from 'ws';
import { isLanevisorError, type Pty } from '../index.js';
import { WS_MAX_BUFFERED_BYTES, WS_MAX_UNACKED_CHARS } from './limits.js';
import { type ClientFrame, clientFrameSchema, type ServerFrame } from './stream-frames.js';

/**
 * One viewer of one PTY. Output is subscribed to before the snapshot is taken; chunks that arrive
 * while it is being taken are dropped, because the snapshot (made after them, from the same
 * ordered stream) already shows them. A viewer more than WS_MAX_UNACKED_CHARS behind gets no more
 * output; its next ack brings a fresh snapshot, which replaces everything it skipped. The PTY is
 * never paused for a viewer.
 */
export function attachViewer(ws: WebSocket, pty: Pty): void {
  let unacked = 0;
  let phase: 'snapshotting' | 'live' | 'behind' | 'done' = 'snapshotting';
  let snapshotting: Promise<void> = Promise.resolve();

  const send = (frame: ServerFrame) => {
    if (ws.readyState !== ws.OPEN) return;
    // A client that reads nothing at all is cut off rather than buffered without bound.
    if (ws.bufferedAmount > WS_MAX_BUFFERED_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(frame));
  };

  const redraw = () => {
    phase = 'snapshotting';
    snapshotting = pty
      .snapshot()
      .then((data) => {
        if (phase === 'done') return;
        unacked = 0;
        send({ type: 'snapshot', data, cols: pty.cols, rows: pty.rows });
        phase = 'live';
      })
      .catch((error: unknown) => {
        send({ type: 'error', error: errorOf(error) });
        phase = 'live';
      });
  };

  const offData = pty.onData((chunk) => {
    if (phase !== 'live') return;
    if (unacked + chunk.length > WS_MAX_UNACKED_CHARS) {
      phase = 'behind';
      return;
    }
    unacked += chunk.length;
    send({ type: 'output', data: chunk });
  });
  redraw();

  void pty.exited.then(async (result) => {
    await snapshotting;
    phase = 'done';
    offData();
    send({ type: 'exit', exitCode: result.exitCode, signal: result.signal });
    ws.close(1000, 'the PTY exited');
  });

  ws.on('message', (message, isBinary) => {
    const frame = parseFrame(message, isBinary);
    if ('error' in frame) {
      send({ type: 'error', error: frame.error });
      return;
    }
    try {
      handle(frame.ok);
    } catch (error) {
      send({ type: 'error', error: errorOf(error) });
    }
  });
  ws.on('close', () => {
    phase = 'done';
    offData();
  });

  function handle(frame: ClientFrame): void {
    switch (frame.type) {
      case 'input':
        pty.write(frame.data);
        return;
      case 'resize':
        pty.resize(frame.cols, frame.rows);
        return;
      case 'ack':
        unacked = Math.max(0, unacked - frame.chars);
        if (phase === 'behind') redraw();
        return;
    }
  }
}

function parseFrame(
  message: unknown,
  isBinary: boolean,
): { ok: ClientFrame } | { error: { code: string; message: string } } {
  const invalid = (text: string) => ({ error: { code: 'VALIDATION_ERROR', message: text } });
  if (isBinary) return invalid('send JSON text frames: {"type":"input"|"resize"|"ack", …}');
  let value: unknown;
  try {
    value = JSON.parse(String(message));
  } catch {
    return invalid('the frame is not JSON: send {"type":"input","data":"…"}, resize or ack');
  }
  const parsed = clientFrameSchema.safeParse(value);
  if (parsed.success) return { ok: parsed.data };
  const issue = parsed.error.issues[0];
  const field = ['frame', ...(issue?.path ?? []).map(String)].join('.');
  return invalid(`${field}: ${issue?.message ?? 'is invalid'}`);
}

function errorOf(error: unknown): { code: string; message: string } {
  if (isLanevisorError(error)) return { code: error.code, message: error.message };
  return { code: 'INTERNAL_ERROR', message: 'the terminal failed to carry out this frame; reconnect to redraw it' };
}
