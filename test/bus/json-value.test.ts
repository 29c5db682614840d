import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonValue, DEFAULT_MAX_PAYLOAD_BYTES, formatFieldPath, MAX_JSON_DEPTH } from '../../bus/json-value.js';

const LIMIT = DEFAULT_MAX_PAYLOAD_BYTES;
const serializedBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

function failure(value: unknown, limit = LIMIT) {
  const check = checkJsonValue(value, 'payload', limit);
  if (check.ok) throw new Error('expected the check to fail');
  return check;
}

describe('checkJsonValue', () => {
  it('accepts plain JSON values', () => {
    for (const value of [
      null,
      true,
      0,
      -1.5,
      '',
      'text',
      [],
      {},
      { a: [1, 'x', null, { b: false }] },
      Object.create(null),
    ]) {
      expect(checkJsonValue(value, 'payload', LIMIT)).toEqual({ ok: true });
    }
  });

  it('accepts undefined object properties, which JSON omits', () => {
    expect(checkJsonValue({ reason: undefined, x: 1 }, 'payload', LIMIT).ok).toBe(true);
  });

  it('names the field of everything JSON cannot carry', () => {
    const cases: [unknown, string, RegExp][] = [
      [undefined, 'payload', /undefined; pass null/],
      [{ a: { fn: () => 1 } }, 'payload.a.fn', /function/],
      [{ big: 10n }, 'payload.big', /bigint/],
      [{ s: Symbol('x') }, 'payload.s', /symbol/],
      [{ n: Number.NaN }, 'payload.n', /NaN/],
      [[1, Number.POSITIVE_INFINITY], 'payload[1]', /Infinity/],
      [[1, undefined], 'payload[1]', /undefined/],
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point of this case.
      [[1, , 3], 'payload[1]', /hole/],
      [{ when: new Date(0) }, 'payload.when', /Date/],
      [{ m: new Map() }, 'payload.m', /Map/],
      [{ buf: Buffer.from('x') }, 'payload.buf', /Buffer/],
      [{ 'odd key': { e: new Error('x') } }, 'payload["odd key"].e', /Error/],
    ];
    for (const [value, field, reason] of cases) {
      const check = failure(value);
      expect(check.field).toBe(field);
      expect(check.message.startsWith(field)).toBe(true);
      expect(check.message).toMatch(reason);
    }
  });

  it('reports a circular value without crashing, at the field that closes the cycle', () => {
    const loop: Record<string, unknown> = { a: { b: {} } };
    (loop.a as { b: Record<string, unknown> }).b.back = loop;
    const check = failure(loop);
    expect(check.field).toBe('payload.a.b.back');
    expect(check.message).toMatch(/circular/);
    const list: unknown[] = [];
    list.push(list);
    expect(failure(list).field).toBe('payload[0]');
  });

  it('accepts a value shared twice without a cycle', () => {
    const shared = { x: 1 };
    expect(checkJsonValue({ a: shared, b: [shared, shared] }, 'payload', LIMIT).ok).toBe(true);
  });

  it(`rejects nesting deeper than ${MAX_JSON_DEPTH} levels`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
    expect(checkJsonValue(deep, 'payload', LIMIT).ok).toBe(true);
    expect(failure([deep]).message).toMatch(/deeper than/);
    let veryDeep: unknown = {};
    for (let i = 0; i < 100_000; i++) veryDeep = { v: veryDeep };
    expect(failure(veryDeep).message).toMatch(/deeper than/);
  });

  it('enforces the byte limit exactly at the boundary, multibyte and escapes included', () => {
    const limit = 1000;
    for (const unit of ['a', 'é', '€', '😀', '\u001b', '"', '\n']) {
      let text = '';
      while (serializedBytes(`${text}${unit}`) <= limit) text += unit;
      expect(checkJsonValue(text, 'payload', limit), `unit ${JSON.stringify(unit)}`).toEqual({ ok: true });
      const check = failure(`${text}${unit}`, limit);
      expect(check.message).toMatch(/over the limit of 1000/);
    }
  });

  it('rejects a 2 MiB payload under the default 1 MiB limit', () => {
    const check = failure({ data: 'x'.repeat(2 * 1024 * 1024) });
    expect(check.field).toBe('payload');
    expect(check.message).toMatch(/at least \d+ bytes serialized, over the limit of 1048576/);
  });

  it('agrees with JSON.stringify on every JSON value and limit (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), fc.integer({ min: 1, max: 4096 }), (value, limit) => {
        expect(checkJsonValue(value, 'payload', limit).ok).toBe(serializedBytes(value) <= limit);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts an object exactly at the limit as fitting (the last member has no comma)', () => {
    // Found by the property above once in a few hundred thousand runs: {"":null} is 9 bytes.
    expect(checkJsonValue({ '': null }, 'payload', 9)).toEqual({ ok: true });
    expect(checkJsonValue({ a: 1, b: 2 }, 'payload', 13)).toEqual({ ok: true });
    expect(checkJsonValue({ a: 1, b: 2 }, 'payload', 12).ok).toBe(false);
  });

  it('formats field paths for identifiers, indexes and odd keys', () => {
    expect(formatFieldPath('payload', ['a', 0, 'b c', '$ok', Symbol.for('s')])).toBe(
      'payload.a[0]["b c"].$ok["Symbol(s)"]',
    );
  });
});
