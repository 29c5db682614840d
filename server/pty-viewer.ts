import type { WebSocket } from 'ws';
import { isLanevisorError, type Pty, viewPty } from '../index.js';
import { WS_MAX_BUFFERED_BYTES } from './limits.js';
import { type ClientFrame, clientFrameSchema, type ServerFrame } from './stream-frames.js';

/**
 * One WebSocket viewer of one PTY: `viewPty` decides what it sees (the screen, then exactly the
 * output past it, a fresh screen after falling behind); this carries it as the contract's frames.
 */
export function attachViewer(ws: WebSocket, pty: Pty): void {
  const send = (frame: ServerFrame) => sendFrame(ws, frame);

  const view = viewPty(
    pty,
    {
      screen: (screen) => send({ type: 'snapshot', data: screen.data, cols: screen.cols, rows: screen.rows }),
      output: (data) => send({ type: 'output', data }),
      exit: (result) => {
        send({ type: 'exit', exitCode: result.exitCode, signal: result.signal });
        ws.close(1000, 'the PTY exited');
      },
      error: (error) => send({ type: 'error', error: { code: error.code, message: error.message } }),
    },
    // The contract's bound of 100,000 unacknowledged chars is viewPty's default.
  );

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
  ws.on('close', () => view.close());

  function handle(frame: ClientFrame): void {
    switch (frame.type) {
      case 'input':
        pty.write(frame.data);
        return;
      case 'resize':
        pty.resize(frame.cols, frame.rows);
        return;
      case 'ack':
        view.ack(frame.chars);
        return;
    }
  }
}

export function sendFrame(ws: WebSocket, frame: ServerFrame): void {
  if (ws.readyState !== ws.OPEN) return;
  // A client that reads nothing at all is cut off rather than buffered without bound.
  if (ws.bufferedAmount > WS_MAX_BUFFERED_BYTES) {
    ws.terminate();
    return;
  }
  ws.send(JSON.stringify(frame));
}

export function parseFrame(
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
