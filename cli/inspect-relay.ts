import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * `--inspect`: a relay on the loopback interface between the runtime's actors and the Stately
 * inspector in a browser. The runtime sends inspection events through `@statelyai/inspect`'s
 * WebSocket inspector; the relay passes them to every other connected client and serves a page
 * that embeds the inspector UI and forwards the events to it (the bridge `@statelyai/inspect/server`
 * uses, which listens on every interface; this one listens on 127.0.0.1 only, on a free port).
 * Recent events are kept for a viewer that connects late.
 */
export const INSPECTOR_UI_URL = 'https://stately.ai/inspect';
/** Events kept for viewers that connect after the run started. */
export const RELAY_BUFFER_EVENTS = 1_000;

export interface InspectorRelay {
  /** The page to open in a browser. */
  readonly pageUrl: string;
  /** Where inspectors send and viewers receive events (e.g. `createWebSocketReceiver({ server })`). */
  readonly socketUrl: string;
  /** Pass as createRuntime's `inspect`. */
  readonly inspect: { next(event: unknown): void };
  close(): Promise<void>;
}

export async function startInspectorRelay(port = 0): Promise<InspectorRelay> {
  let socketUrl = '';
  const http = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(bridgePage(socketUrl));
  });
  const sockets = new WebSocketServer({ server: http });
  const recent: string[] = [];
  sockets.on('connection', (socket) => {
    for (const message of recent) socket.send(message);
    socket.on('message', (data) => {
      const message = data.toString();
      recent.push(message);
      if (recent.length > RELAY_BUFFER_EVENTS) recent.shift();
      for (const client of sockets.clients) {
        if (client !== socket && client.readyState === WebSocket.OPEN) client.send(message);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = http.address() as AddressInfo;
  socketUrl = `ws://127.0.0.1:${bound}`;
  const inspector = createWebSocketInspector({ url: socketUrl });
  inspector.start();
  return {
    pageUrl: `http://127.0.0.1:${bound}/`,
    socketUrl,
    inspect: inspector.inspect as { next(event: unknown): void },
    async close() {
      inspector.stop();
      for (const client of sockets.clients) client.terminate();
      await new Promise((resolve) => sockets.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

function bridgePage(socketUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>lanevisor — Stately inspector</title>
<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style></head>
<body><iframe id="inspector" src="${INSPECTOR_UI_URL}"></iframe>
<script>
  const frame = document.getElementById('inspector');
  const waiting = [];
  let ready = false;
  window.addEventListener('message', (message) => {
    if (message.data && message.data.type === '@statelyai.connected') {
      ready = true;
      for (const event of waiting.splice(0)) frame.contentWindow.postMessage(event, '*');
    }
  });
  new WebSocket(${JSON.stringify(socketUrl)}).onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (ready) frame.contentWindow.postMessage(event, '*');
    else waiting.push(event);
  };
</script></body></html>
`;
}
