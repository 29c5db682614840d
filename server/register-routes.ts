import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../index.js';
import { presentedToken, TOKEN_COOKIE, tokenMatches } from './auth.js';
import type { CommandRouter } from './command-router.js';
import { HttpError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { type Asset, dashboardPage, loadAssets } from './page.js';
import { type CommandRoute, ROUTES, type SpecialRoute } from './routes.js';
import type { EventHub } from './sse.js';

interface RouteContext {
  readonly rt: Runtime;
  readonly router: CommandRouter;
  readonly token: string;
  readonly events: EventHub;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Registers every route of ROUTES on the app, and nothing else. */
export function registerRoutes(app: FastifyInstance, context: RouteContext): void {
  const document = JSON.stringify(openApiDocument());
  const assets = loadAssets();
  for (const route of ROUTES) {
    const handler =
      route.kind === 'command' ? commandHandler(route, context) : specialHandler(route, context, document, assets);
    app.route({ method: route.method, url: route.path, handler });
  }
}

function commandHandler(route: CommandRoute, { router }: RouteContext): Handler {
  return async (request, reply) => {
    const body = request.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'VALIDATION_ERROR', 'the request body must be a JSON object, such as {}');
    }
    const payload = route.payload(
      request.params as Record<string, string>,
      body as Record<string, unknown>,
      request.query as Record<string, string | undefined>,
    );
    const result = await router.execute(route.command, payload);
    return reply.code(route.status).send(route.project === undefined ? (result ?? null) : route.project(result));
  };
}

function specialHandler(
  route: SpecialRoute,
  { token, events }: RouteContext,
  document: string,
  assets: ReadonlyMap<string, Asset>,
): Handler {
  switch (route.kind) {
    case 'openapi':
      return async (_request, reply) => reply.type('application/json; charset=utf-8').send(document);
    case 'events':
      return async (request, reply) => {
        const query = request.query as Record<string, string | undefined>;
        const header = request.headers['last-event-id'];
        const start = events.prepare({
          topic: query.topic,
          lastEventId: typeof header === 'string' ? header : query.lastEventId,
        });
        reply.hijack();
        start(reply.raw);
      };
    case 'stream':
      return async () => {
        throw new HttpError(400, 'INVALID_ARGUMENT', 'open this path as a WebSocket (Connection: Upgrade)');
      };
    case 'asset':
      return async (request, reply) => {
        const name = (request.params as { name: string }).name;
        const asset = assets.get(name);
        if (asset === undefined) {
          const hint = assets.size === 0 ? ': the dashboard is not built (npm run build)' : '';
          throw new HttpError(404, 'NOT_FOUND', `no asset ${name}${hint}`);
        }
        return reply.type(asset.type).header('Cache-Control', 'no-cache').send(asset.body);
      };
    case 'page':
      return async (request, reply) => {
        const given = (request.query as Record<string, string | undefined>).token;
        if (given === undefined) {
          return reply
            .type('text/html; charset=utf-8')
            .header('Cache-Control', 'no-store')
            .send(dashboardPage(tokenMatches(token, presentedToken(request.headers))));
        }
        if (!tokenMatches(token, given)) {
          throw new HttpError(
            401,
            'INVALID_ARGUMENT',
            'missing or wrong token: open the URL rt.serve() or lanevisor serve printed',
          );
        }
        // The token leaves the address bar (and the history) at once; the cookie carries it from here.
        return reply
          .header('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
          .redirect('/', 302);
      };
  }
}
