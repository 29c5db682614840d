import { z } from 'zod';
import { LIFECYCLE_PAYLOAD_SCHEMAS } from './lifecycle.js';
import { commandEnvelopeSchema, eventEnvelopeSchema, responseEnvelopeSchema } from './schemas.js';

type JsonSchema = Record<string, unknown>;

/**
 * The JSON Schema (draft 2020-12) of every envelope and of every lifecycle payload (under
 * `$defs`, keyed by topic), generated from
 * the zod schemas the bus validates with. An event on a lifecycle topic must carry that topic's
 * payload (an if/then per topic). Written to docs/schema/bus.schema.json by `npm run schema`.
 */
export function busJsonSchema(): JsonSchema {
  const payloadDefs: Record<string, JsonSchema> = {};
  const payloadRules: JsonSchema[] = [];
  for (const [topic, schema] of Object.entries(LIFECYCLE_PAYLOAD_SCHEMAS).sort(([a], [b]) => a.localeCompare(b))) {
    payloadDefs[topic] = { description: `Payload of ${topic} events`, ...toSchema(schema) };
    payloadRules.push({
      if: { properties: { topic: { const: topic } }, required: ['topic'] },
      // biome-ignore lint/suspicious/noThenProperty: `then` is JSON Schema's keyword, not a thenable.
      then: { properties: { payload: { $ref: `#/$defs/${topic}` } } },
    });
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'lanevisor bus envelopes',
    description:
      'Generated from the zod schemas in bus/ by `npm run schema`; a test fails when this file is stale. Payloads and results are plain JSON of at most the bus limit (default 1 MiB serialized).',
    oneOf: [
      { $ref: '#/$defs/EventEnvelope' },
      { $ref: '#/$defs/CommandEnvelope' },
      { $ref: '#/$defs/ResponseEnvelope' },
    ],
    $defs: {
      EventEnvelope: { ...toSchema(eventEnvelopeSchema), allOf: payloadRules },
      CommandEnvelope: toSchema(commandEnvelopeSchema),
      ResponseEnvelope: toSchema(responseEnvelopeSchema),
      ...payloadDefs,
    },
  };
}

function toSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as JsonSchema;
  return rest;
}

/** The exact text of docs/schema/bus.schema.json. */
export function busJsonSchemaText(): string {
  return `${JSON.stringify(busJsonSchema(), null, 2)}\n`;
}
