import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
// Through the package entry, so that rt.serve() has its server.
import type { ServeHandle } from '../../index.js';
import '../../index.js';
import { createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';

export interface Served {
  readonly fixture: RuntimeFixture;
  readonly server: ServeHandle;
  /** fetch with the bearer token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

export async function startServed(): Promise<Served> {
  const fixture = await createRuntimeFixture({ pty: { terminateGraceMs: 500 } });
  const server = await fixture.rt.serve();
  return {
    fixture,
    server,
    api: (path, init = {}) =>
      fetch(new URL(path, server.url), {
        ...init,
        headers: { authorization: `Bearer ${server.token}`, ...(init.headers as Record<string, string>) },
      }),
    async dispose() {
      await server.close();
      await fixture.dispose();
    },
  };
}

export function postJson(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A request with headers fetch will not send as given (Host). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
