import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { busJsonSchema, busJsonSchemaText } from '../../bus/json-schema.js';
import { LIFECYCLE_PAYLOAD_SCHEMAS } from '../../bus/lifecycle.js';
import { envelopeSchema } from '../../bus/schemas.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../docs/schema/bus.schema.json', import.meta.url));

describe('docs/schema/bus.schema.json', () => {
  it('is what the zod schemas generate today (run `npm run schema` when this fails)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(busJsonSchemaText());
  });

  it('describes the three envelopes and every lifecycle payload', () => {
    const schema = busJsonSchema() as { $defs: Record<string, unknown> };
    expect(Object.keys(schema.$defs)).toEqual(
      expect.arrayContaining([
        'EventEnvelope',
        'CommandEnvelope',
        'ResponseEnvelope',
        ...Object.keys(LIFECYCLE_PAYLOAD_SCHEMAS),
      ]),
    );
    const event = schema.$defs.EventEnvelope as { allOf: { if: { properties: { topic: { const: string } } } }[] };
    expect(event.allOf.map((rule) => rule.if.properties.topic.const).sort()).toEqual(
      Object.keys(LIFECYCLE_PAYLOAD_SCHEMAS).sort(),
    );
  });

  it('the runtime envelope validator tells envelopes apart by type', () => {
    const event = {
      id: 'evt_0123456789abcdef',
      type: 'event',
      topic: 'a.b',
      sequence: 1,
      timestamp: 0,
      correlationId: 'c',
      payload: null,
    };
    expect(envelopeSchema.safeParse(event).success).toBe(true);
    expect(envelopeSchema.safeParse({ ...event, type: 'command' }).success).toBe(false);
    expect(envelopeSchema.safeParse({ ...event, sequence: 0 }).success).toBe(false);
  });
});
