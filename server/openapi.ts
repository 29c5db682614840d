import { z } from 'zod';
import { openApiPath, paramsOf, ROUTES, type Route } from './routes.js';
import { errorSchema, eventsQuerySchema } from './schemas.js';

/** The OpenAPI 3.1 document of ROUTES, from the same zod schemas that validate the requests. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'lanevisor', version: '1', description: 'A lanevisor runtime: lanes, PTYs and its bus events.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'lanevisor_token' },
      },
      schemas: { Error: jsonSchema(errorSchema, 'output') },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths,
  };
}

const ERROR_RESPONSE = {
  description: 'The error: { error: { code, message } }',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

function operationOf(route: Route): Record<string, unknown> {
  const parameters: unknown[] = paramsOf(route.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string', minLength: 1, maxLength: 128 },
  }));
  const errors = { '400': ERROR_RESPONSE, '401': ERROR_RESPONSE, '403': ERROR_RESPONSE, '404': ERROR_RESPONSE };
  const base = { operationId: `${route.method.toLowerCase()}${openApiPath(route.path)}`, summary: route.summary };
  switch (route.kind) {
    case 'command':
      return {
        ...base,
        parameters: [
          ...parameters,
          ...(route.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
        ],
        ...(route.body === undefined
          ? {}
          : {
              requestBody: {
                required: false,
                content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
              },
            }),
        responses: {
          [String(route.status)]: {
            description: 'OK',
            content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
          },
          ...errors,
          '409': ERROR_RESPONSE,
          '413': ERROR_RESPONSE,
          '500': ERROR_RESPONSE,
          '503': ERROR_RESPONSE,
        },
      };
    case 'events': {
      const query = jsonSchema(eventsQuerySchema, 'input') as { properties: Record<string, unknown> };
      return {
        ...base,
        parameters: [
          ...Object.entries(query.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: 'id: <n>, data: <event envelope JSON>', content: { 'text/event-stream': {} } },
          ...errors,
          '503': ERROR_RESPONSE,
        },
      };
    }
    case 'stream':
      return {
        ...base,
        parameters,
        responses: { '101': { description: 'Switching to the WebSocket protocol' }, ...errors, '503': ERROR_RESPONSE },
      };
    case 'openapi':
      return { ...base, responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } };
    case 'page':
      return {
        ...base,
        security: [],
        responses: { '200': { description: 'HTML' }, '302': { description: 'Cookie set' } },
      };
    case 'asset':
      return {
        ...base,
        parameters,
        security: [],
        responses: { '200': { description: 'JavaScript or CSS' }, '404': ERROR_RESPONSE },
      };
  }
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
