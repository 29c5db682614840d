import type { WebSocket } from 'ws';
import { isLanevisorError, type RuntimeConnection } from '../index.js';
import { parseFrame, sendFrame } from './pty-viewer.js';
import type { ServerFrame } from './stream-frames.js';

/**
 * One WebSocket viewer of a PTY on another runtime (`serve --nats`): the same frames as a local
 * PTY's stream, carried from that runtime's view (its screen first, its output after it, a fresh
 * screen when the viewer fell behind); the page's acknowledgements go back to pace it.
 */
export async function attachRemoteViewer(
  ws: WebSocket,
  connecting: Promise<RuntimeConnection>,
  ptyId: string,
): Promise<void> {
  const send = (frame: ServerFrame) => sendFrame(ws, frame);
  let connection: RuntimeConnection | undefined;
  // Output that comes before the first screen is sent waits for it: the screen goes first.
  let early: string[] | undefined = [];
  try {
    connection = await connecting;
    const attached = await connection.view(
      ptyId,
      {},
      {
        output: (data) => (early === undefined ? send({ type: 'output', data }) : early.push(data)),
        redraw: (data, cols, rows) => send({ type: 'snapshot', data, cols, rows }),
        exited: (exit) => {
          send({ type: 'exit', exitCode: exit.exitCode, signal: exit.signal });
          ws.close(1000, 'the PTY exited');
        },
        lost: (reason) => {
          send({ type: 'error', error: { code: 'UNAVAILABLE', message: reason } });
          ws.close(1011, 'the remote runtime went away');
        },
      },
    );
    send({ type: 'snapshot', data: attached.screen, cols: attached.cols, rows: attached.rows });
    for (const data of early ?? []) send({ type: 'output', data });
    early = undefined;
    ws.on('message', (message, isBinary) => {
      const frame = parseFrame(message, isBinary);
      if ('error' in frame) {
        send({ type: 'error', error: frame.error });
        return;
      }
      const { ok } = frame;
      if (ok.type === 'input') attached.write(ok.data);
      else if (ok.type === 'resize') attached.resize(ok.cols, ok.rows);
      else attached.shown(ok.chars);
    });
    ws.on('close', () => {
      void attached.detach().finally(() => connection?.close());
    });
    if (ws.readyState !== ws.OPEN) await attached.detach().finally(() => connection?.close());
  } catch (error) {
    const code = isLanevisorError(error) ? error.code : 'UNAVAILABLE';
    send({ type: 'error', error: { code, message: error instanceof Error ? error.message : String(error) } });
    ws.close(1011, 'the remote terminal could not be reached');
    connection?.close();
  }
}
