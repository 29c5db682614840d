/**
 * Checks that a value is plain JSON (what an envelope may carry) and fits a byte limit, without
 * crashing on cycles and without serializing small values: a walk computes a lower and an upper
 * bound of the serialized size, and only a value whose bounds straddle the limit is serialized.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Deeper values are rejected before they can exhaust the stack of the walk or of JSON.stringify. */
export const MAX_JSON_DEPTH = 64;
/** One UTF-16 unit serializes to at most 6 bytes (`\u001b`); used for the upper bound. */
const MAX_BYTES_PER_UNIT = 6;
/** Longest serialized JS number (`-1.7976931348623157e+308`). */
const MAX_NUMBER_BYTES = 24;

export type JsonCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly field: string; readonly message: string };

const OK: JsonCheck = { ok: true };

interface Walk {
  readonly path: (string | number)[];
  readonly ancestors: object[];
  lower: number;
  upper: number;
  failure: string | undefined;
}

export function checkJsonValue(value: unknown, field: string, maxBytes: number): JsonCheck {
  const walk: Walk = { path: [], ancestors: [], lower: 0, upper: 0, failure: undefined };
  if (value === undefined) {
    return fail(field, walk, 'is undefined; pass null for an empty value');
  }
  if (!visit(value, walk)) return fail(field, walk, walk.failure ?? 'is not a JSON value');
  if (walk.upper <= maxBytes) return OK;
  if (walk.lower > maxBytes) return tooLarge(field, `at least ${walk.lower}`, maxBytes);
  const bytes = Buffer.byteLength(JSON.stringify(value));
  return bytes > maxBytes ? tooLarge(field, String(bytes), maxBytes) : OK;
}

function tooLarge(field: string, size: string, maxBytes: number): JsonCheck {
  return { ok: false, field, message: `${field} is ${size} bytes serialized, over the limit of ${maxBytes}` };
}

function fail(field: string, walk: Walk, message: string): JsonCheck {
  const where = formatFieldPath(field, walk.path);
  return { ok: false, field: where, message: `${where} ${message}` };
}

/** `payload`, ['a', 0, 'odd key'] → `payload.a[0]["odd key"]`. */
export function formatFieldPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function visit(value: unknown, walk: Walk): boolean {
  switch (typeof value) {
    case 'string':
      walk.lower += value.length + 2;
      walk.upper += value.length * MAX_BYTES_PER_UNIT + 2;
      return true;
    case 'number':
      if (!Number.isFinite(value)) return reject(walk, `is ${value}, which JSON cannot represent`);
      walk.lower += 1;
      walk.upper += MAX_NUMBER_BYTES;
      return true;
    case 'boolean':
      walk.lower += 4;
      walk.upper += 5;
      return true;
    case 'object':
      if (value === null) {
        walk.lower += 4;
        walk.upper += 4;
        return true;
      }
      return visitObject(value, walk);
    default:
      return reject(walk, `is a ${typeof value}, which JSON cannot represent`);
  }
}

function visitObject(value: object, walk: Walk): boolean {
  if (walk.ancestors.includes(value)) return reject(walk, 'is circular (refers to one of its own ancestors)');
  if (walk.ancestors.length >= MAX_JSON_DEPTH) return reject(walk, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
  walk.ancestors.push(value);
  const ok = Array.isArray(value) ? visitArray(value, walk) : visitPlainObject(value, walk);
  walk.ancestors.pop();
  return ok;
}

function visitArray(value: readonly unknown[], walk: Walk): boolean {
  walk.lower += 2 + Math.max(0, value.length - 1);
  walk.upper += 2 + Math.max(0, value.length - 1);
  for (let index = 0; index < value.length; index++) {
    const item = value[index];
    walk.path.push(index);
    if (item === undefined) return reject(walk, 'is undefined (or a hole); JSON would turn it into null');
    if (!visit(item, walk)) return false;
    walk.path.pop();
  }
  return true;
}

function visitPlainObject(value: object, walk: Walk): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value.constructor as { name?: unknown } | undefined)?.name;
    return reject(
      walk,
      `is a ${typeof name === 'string' && name ? name : 'class instance'}, not a plain object; convert it to plain JSON`,
    );
  }
  walk.lower += 2;
  walk.upper += 2;
  const record = value as Record<string, unknown>;
  let members = 0;
  for (const key in record) {
    const item = record[key];
    if (item === undefined) continue; // JSON omits undefined properties, as optional fields expect.
    // Quotes and colon; a comma before every member but the first.
    const punctuation = members++ === 0 ? 3 : 4;
    walk.lower += key.length + punctuation;
    walk.upper += key.length * MAX_BYTES_PER_UNIT + punctuation;
    walk.path.push(key);
    if (!visit(item, walk)) return false;
    walk.path.pop();
  }
  return true;
}

function reject(walk: Walk, message: string): false {
  walk.failure = message;
  return false;
}
