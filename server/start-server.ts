import type { AddressInfo } from 'node:net';
import fastify from 'fastify';
import { LanevisorError, type Runtime, type ServeHandle, type ServeOptions } from '../index.js';
import { allowedHosts, assertAuthorized, assertHost, createToken } from './auth.js';
import { CommandRouter } from './command-router.js';
import { HttpError, sendError } from './errors.js';
import { DEFAULT_HOST, MAX_BODY_BYTES } from './limits.js';
import { PtyStreams } from './pty-stream.js';
import { registerRoutes } from './register-routes.js';
import { ROUTES } from './routes.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { EventHub } from './sse.js';
import { tokenFromFile } from './token-file.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
/** The routes that hold no data (the page's shell and its bundle): the only ones without the token. */
function publicRoutes(): ReadonlySet<string> {
  return new Set(ROUTES.filter((route) => route.kind === 'page' || route.kind === 'asset').map((route) => route.path));
}

/** `rt.serve()`: the HTTP, SSE and WebSocket server of docs/api.md, on its own token. */
export async function startServer(rt: Runtime, options: ServeOptions): Promise<ServeHandle> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? 0;
  if (!LOOPBACK_HOSTS.has(host)) {
    // The token is never printed here: whoever started the server has it.
    process.stderr.write(
      `lanevisor: warning: serving on ${host}, which other machines may reach; anyone with the token controls this runtime's terminals\n`,
    );
  }
  const token = options.tokenFile === undefined ? createToken() : await tokenFromFile(options.tokenFile);
  let hosts: ReadonlySet<string> = new Set();
  const app = fastify({ bodyLimit: MAX_BODY_BYTES, logger: false, forceCloseConnections: true });
  const events = new EventHub(rt.bus);
  const router = new CommandRouter(rt, options.remote);
  const streams = new PtyStreams(rt, router, token, () => hosts);

  const open = publicRoutes();
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
    assertHost(hosts, request.headers.host);
    // Deny by default, by the route that matched (the router decodes `%61pi` to `api`, so the raw
    // URL says nothing): only the page and its assets answer without the token.
    if (!open.has(request.routeOptions.url ?? '')) assertAuthorized(token, request.headers);
  });
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    return sendError(
      reply,
      new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${path}; GET /api/openapi.json lists them`),
    );
  });
  registerRoutes(app, { rt, router, token, events });
  app.server.on('upgrade', (request, socket, head) => void streams.handleUpgrade(request, socket, head));

  try {
    await app.listen({ host, port });
  } catch (error) {
    events.close();
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      `cannot listen on ${host}:${port} (${(error as { code?: string }).code ?? 'failed'}); pick another port or host`,
    );
  }
  const bound = (app.server.address() as AddressInfo).port;
  hosts = allowedHosts(host, bound);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    token,
    close() {
      closing ??= (async () => {
        events.close();
        await streams.close();
        await app.close();
      })();
      return closing;
    },
  };
}
