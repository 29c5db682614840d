import { LanevisorError } from '../index.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A NATS message's body as JSON; an empty body is `{}`. Garbage is VALIDATION_ERROR. */
export function jsonBodyOf(data: Uint8Array, what: string): unknown {
  if (data.byteLength === 0) return {};
  const text = decoder.decode(data);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new LanevisorError('VALIDATION_ERROR', `${what} is not JSON`, { details: { field: 'payload' } });
  }
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** A nats.js error's code (`503` for no responders, `TIMEOUT`, `CONNECTION_CLOSED`, …). */
export function natsCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
