import { z } from 'zod';
import { idPattern } from './ids.js';

/**
 * The catalog of lifecycle topics: each reserved topic lanevisor publishes, with the schema of its
 * payload. Publishing on a reserved topic that is not in this catalog, or with a payload that does
 * not match, is a VALIDATION_ERROR; docs/schema/bus.schema.json is generated from this catalog.
 */
const subscriptionIdSchema = z.string().regex(idPattern('subscription'));

export const LIFECYCLE_PAYLOAD_SCHEMAS = {
  'bus.subscriber_error': z.strictObject({
    subscriptionId: subscriptionIdSchema,
    pattern: z.string(),
    /** The event being delivered when the subscriber failed or was disconnected. */
    topic: z.string(),
    eventId: z.string(),
    code: z.enum(['HANDLER_ERROR', 'BACKPRESSURE']),
    message: z.string(),
  }),
  'bus.dropped': z.strictObject({
    subscriptionId: subscriptionIdSchema,
    pattern: z.string(),
    /** `started` at the first event dropped for a lagging subscriber; `ended` once it caught up. */
    phase: z.enum(['started', 'ended']),
    /** Events dropped in this episode so far. */
    dropped: z.number().int().nonnegative(),
    /** Events dropped for this subscription since it was made. */
    totalDropped: z.number().int().nonnegative(),
    /** The topic of the most recent dropped event. */
    lastTopic: z.string(),
  }),
} as const satisfies Record<string, z.ZodType>;

export type LifecycleTopic = keyof typeof LIFECYCLE_PAYLOAD_SCHEMAS;
export type LifecyclePayload<T extends LifecycleTopic> = z.infer<(typeof LIFECYCLE_PAYLOAD_SCHEMAS)[T]>;

export function isLifecycleTopic(topic: string): topic is LifecycleTopic {
  return Object.hasOwn(LIFECYCLE_PAYLOAD_SCHEMAS, topic);
}
