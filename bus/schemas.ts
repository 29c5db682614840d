import { z } from 'zod';
import type { CommandEnvelope, Envelope, EventEnvelope, ResponseEnvelope } from './envelopes.js';
import { ERROR_CODES } from './errors.js';
import { idPattern } from './ids.js';
import { MAX_TOPIC_LENGTH, TOPIC_PATTERN } from './topics.js';

/**
 * The zod schemas of the envelopes: the single source for runtime validation and for the JSON
 * Schema in docs/schema/bus.schema.json. Payloads and results are `unknown` here; that they are
 * plain JSON under the size limit is checked by `checkJsonValue`, which a JSON Schema cannot say.
 */
export const MAX_CORRELATION_ID_LENGTH = 128;
/** setTimeout's own ceiling (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

const TOPIC_GRAMMAR = 'lowercase dot-separated segments of [a-z0-9_]';

export const topicSchema = z
  .string()
  .max(MAX_TOPIC_LENGTH)
  .regex(TOPIC_PATTERN, `must be ${TOPIC_GRAMMAR}`)
  .describe(`Event topic: ${TOPIC_GRAMMAR}`);

export const methodSchema = z
  .string()
  .max(MAX_TOPIC_LENGTH)
  .regex(TOPIC_PATTERN, `must be ${TOPIC_GRAMMAR}`)
  .describe(`Command method: ${TOPIC_GRAMMAR}`);

export const correlationIdSchema = z
  .string()
  .min(1)
  .max(MAX_CORRELATION_ID_LENGTH)
  .describe("The caller's correlation id, or a generated cor_… id");

export const timeoutMsSchema = z.number().int().min(1).max(MAX_TIMEOUT_MS);

const timestampSchema = z.number().int().nonnegative().describe('Epoch milliseconds');
const idOf = (kind: Parameters<typeof idPattern>[0]) => z.string().regex(idPattern(kind));

export const eventEnvelopeSchema = z.strictObject({
  id: idOf('event'),
  type: z.literal('event'),
  topic: topicSchema,
  sequence: z.number().int().min(1).describe('Per topic: 1, 2, 3 … with no gap'),
  timestamp: timestampSchema,
  correlationId: correlationIdSchema,
  payload: z.unknown(),
});

export const commandEnvelopeSchema = z.strictObject({
  id: idOf('command'),
  type: z.literal('command'),
  method: methodSchema,
  timestamp: timestampSchema,
  correlationId: correlationIdSchema,
  payload: z.unknown(),
  timeoutMs: timeoutMsSchema.optional(),
});

export const responseErrorSchema = z.strictObject({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const responseBase = {
  id: idOf('response'),
  type: z.literal('response'),
  commandId: idOf('command'),
  timestamp: timestampSchema,
  correlationId: correlationIdSchema,
};

export const responseEnvelopeSchema = z.discriminatedUnion('ok', [
  z.strictObject({ ...responseBase, ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ ...responseBase, ok: z.literal(false), error: responseErrorSchema }),
]);

export const envelopeSchema = z.discriminatedUnion('type', [
  eventEnvelopeSchema,
  commandEnvelopeSchema,
  responseEnvelopeSchema,
]);

/**
 * Compile-time check that the hand-written envelope types (with precise id types) fit the
 * schemas and name the same fields, so the two cannot drift apart.
 */
type Fits<Typed, Schema> = [Typed] extends [Schema]
  ? [keyof Typed] extends [keyof Schema]
    ? [keyof Schema] extends [keyof Typed]
      ? true
      : false
    : false
  : false;
const envelopeTypesFitSchemas: [
  Fits<EventEnvelope, z.infer<typeof eventEnvelopeSchema>>,
  Fits<CommandEnvelope, z.infer<typeof commandEnvelopeSchema>>,
  Fits<ResponseEnvelope, z.infer<typeof responseEnvelopeSchema>>,
  Fits<Envelope, z.infer<typeof envelopeSchema>>,
] = [true, true, true, true];
void envelopeTypesFitSchemas;
