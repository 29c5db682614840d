import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';

export interface SseFrame {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

export interface SseStream {
  readonly status: number;
  readonly frames: SseFrame[];
  readonly response: IncomingMessage;
  close(): void;
}

/** A minimal Server-Sent Events reader over node:http, so that the test sees every frame as sent. */
export function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined;
    req = httpRequest(url, { headers }, (response) => {
      const frames: SseFrame[] = [];
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame = parseBlock(block);
          if (frame !== undefined) frames.push(frame);
          end = buffer.indexOf('\n\n');
        }
      });
      response.on('error', () => {});
      resolve({ status: response.statusCode ?? 0, frames, response, close: () => req?.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

function parseBlock(block: string): SseFrame | undefined {
  let id: string | undefined;
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  return data.length === 0 ? undefined : { id, event, data: data.join('\n') };
}
