import type { z } from 'zod';
import { type ErrorCode, LanevisorError } from './errors.js';
import { checkJsonValue, formatFieldPath } from './json-value.js';

/** A VALIDATION_ERROR whose message starts with the bad field, and whose details name it. */
export function validationError(
  field: string,
  message: string,
  code: Extract<ErrorCode, 'VALIDATION_ERROR' | 'INVALID_ARGUMENT'> = 'VALIDATION_ERROR',
): LanevisorError {
  return new LanevisorError(code, message.startsWith(field) ? message : `${field}: ${message}`, {
    details: { field },
  });
}

/** Parses with a zod schema, throwing an error (VALIDATION_ERROR by default) naming the first bad field. */
export function parseOrThrow<T>(
  schema: z.ZodType<T>,
  value: unknown,
  root: string,
  code: Parameters<typeof validationError>[2] = 'VALIDATION_ERROR',
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? formatFieldPath(root, issue.path) : root;
  throw validationError(field, issue?.message ?? 'is invalid', code);
}

/** Throws a VALIDATION_ERROR unless the value is plain JSON of at most `maxBytes` serialized. */
export function assertJsonValue(value: unknown, field: string, maxBytes: number): void {
  const check = checkJsonValue(value, field, maxBytes);
  if (!check.ok) throw validationError(check.field, check.message);
}

/** Throws INVALID_ARGUMENT unless `value` is a function (for callers without type checking). */
export function assertFunction(value: unknown, field: string): void {
  if (typeof value !== 'function') throw validationError(field, `${field} must be a function`, 'INVALID_ARGUMENT');
}
