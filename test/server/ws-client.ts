import WebSocket from 'ws';
import type { ServeHandle } from '../../index.js';

export type Frame =
  | { type: 'snapshot'; data: string; cols: number; rows: number }
  | { type: 'output'; data: string }
  | { type: 'exit'; exitCode: number | null; signal: string | null }
  | { type: 'error'; error: { code: string; message: string } };

export interface Viewer {
  readonly ws: WebSocket;
  readonly frames: Frame[];
  /** Every output frame's data, joined. */
  output(): string;
  send(frame: unknown): void;
  readonly closed: Promise<void>;
}

/** A terminal viewer over `/api/ptys/:ptyId/stream`; `autoAck` acknowledges each output frame at once. */
export async function openViewer(server: ServeHandle, ptyId: string, autoAck = false): Promise<Viewer> {
  const url = new URL(`/api/ptys/${ptyId}/stream`, server.url).toString().replace(/^http/, 'ws');
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${server.token}` } });
  const frames: Frame[] = [];
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Frame;
    frames.push(frame);
    if (autoAck && frame.type === 'output') ws.send(JSON.stringify({ type: 'ack', chars: frame.data.length }));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    output: () =>
      frames
        .filter((frame) => frame.type === 'output')
        .map((frame) => frame.data)
        .join(''),
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    closed,
  };
}
