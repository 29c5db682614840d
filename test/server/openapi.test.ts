import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONTROL_COMMANDS } from '../../index.js';
import { openApiPath, ROUTES } from '../../server/routes.js';
import { type Served, startServed } from './harness.js';

/** The OpenAPI document at /api/openapi.json: generated from the route table and the commands' schemas. */
let served: Served;
let document: { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };
beforeAll(async () => {
  served = await startServed();
  document = (await (await served.api('/api/openapi.json')).json()) as typeof document;
});
afterAll(async () => {
  await served.dispose();
});

const documented = () =>
  Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and documents exactly the registered routes', () => {
    expect(document.openapi).toBe('3.1.0');
    const registered = ROUTES.map((route) => `${route.method} ${openApiPath(route.path)}`);
    expect([...documented()].sort()).toEqual([...registered].sort());
  });

  it('every documented operation answers from a route of its own (never the unknown-route 404)', async () => {
    for (const operation of documented()) {
      const [method, path] = operation.split(' ') as [string, string];
      const concrete = path.replace(/\{[A-Za-z]+\}/g, 'x_nope');
      const abort = new AbortController();
      const response = await served.api(concrete, {
        method,
        signal: abort.signal,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      expect(response.status, operation).not.toBe(401);
      if (response.status === 404) {
        const body = (await response.json()) as { error: { message: string } };
        expect(body.error.message, operation).not.toMatch(/^no route/);
      }
      abort.abort();
    }
    const unknown = (await (await served.api('/api/unknown')).json()) as { error: { message: string } };
    expect(unknown.error.message).toMatch(/^no route GET \/api\/unknown/);
  });

  it("request bodies are the control commands' own schemas", () => {
    type Body = { content: { 'application/json': { schema: unknown } } };
    const schemaOf = (path: string) => {
      const body = document.paths[path]?.post?.requestBody as Body | undefined;
      return body?.content['application/json'].schema;
    };
    // The command's own input, plus the runtime to create it on (serve --nats routes it there).
    const withRuntime = CONTROL_COMMANDS['lane.create'].input.extend({
      runtimeId: z.string().min(1).max(128).optional(),
    });
    const { $schema: _, ...createLane } = z.toJSONSchema(withRuntime, { io: 'input' });
    expect(schemaOf('/api/lanes')).toEqual(createLane);
    expect(schemaOf('/api/lanes/{laneId}/exec')).toMatchObject({ required: ['argv'], additionalProperties: false });
    expect(Object.keys((schemaOf('/api/lanes/{laneId}/ptys') as { properties: object }).properties)).toEqual(
      expect.arrayContaining(['command', 'args', 'cols', 'rows', 'env', 'restart']),
    );
    const laneParameters = document.paths['/api/lanes/{laneId}']?.get?.parameters as Array<{
      name: string;
      in: string;
    }>;
    expect(laneParameters).toEqual([expect.objectContaining({ name: 'laneId', in: 'path' })]);
  });
});
