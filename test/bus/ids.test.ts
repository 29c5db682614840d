import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createId,
  createLaneId,
  createSequentialIdFactory,
  ID_PREFIXES,
  type IdKind,
  idPattern,
  isCorrelationId,
  isEventId,
  isId,
  isLaneId,
  isPtyId,
  isRuntimeId,
} from '../../bus/ids.js';

const kinds = Object.keys(ID_PREFIXES) as IdKind[];

describe('ids', () => {
  it('have the prefix of their kind and a 16-character lowercase body', () => {
    for (const kind of kinds) {
      const id = createId(kind);
      expect(id).toMatch(new RegExp(`^${ID_PREFIXES[kind]}_[0-9a-z]{16}$`));
      expect(isId(kind, id)).toBe(true);
      expect(idPattern(kind).test(id)).toBe(true);
    }
  });

  it('are accepted only by the validator of their own prefix', () => {
    const validators = {
      lane: isLaneId,
      pty: isPtyId,
      event: isEventId,
      correlation: isCorrelationId,
      runtime: isRuntimeId,
    };
    for (const [kind, validate] of Object.entries(validators)) {
      for (const other of Object.keys(validators)) {
        expect(validate(createId(other as IdKind))).toBe(other === kind);
      }
    }
  });

  it('reject look-alikes', () => {
    const body = 'abcdefghij012345';
    for (const bad of [
      `lane_${body.toUpperCase()}`,
      `lane_${body}x`,
      `lane_${body.slice(1)}`,
      `lane-${body}`,
      `Lane_${body}`,
      ` lane_${body}`,
      `lane_${body}\n`,
      `lane_abcdefghij01234-`,
      '',
      42,
      null,
      undefined,
    ]) {
      expect(isLaneId(bad), String(bad)).toBe(false);
    }
    expect(isLaneId(`lane_${body}`)).toBe(true);
  });

  it('do not collide in 200,000 draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(createLaneId());
    expect(seen.size).toBe(200_000);
  });

  describe('lane ids in git and on disk', () => {
    const root = mkdtempSync(join(tmpdir(), 'lanevisor-ids-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('are valid branch names under lane/ and usable as directory names', () => {
      const ids = Array.from({ length: 50 }, createLaneId);
      for (const id of ids) {
        // git itself is the judge of a valid branch name.
        expect(() =>
          execFileSync('git', ['check-ref-format', '--branch', `lane/${id}`], { stdio: 'pipe' }),
        ).not.toThrow();
        mkdirSync(join(root, id));
      }
      expect(encodeURIComponent(ids[0] ?? '')).toBe(ids[0]);
    });
  });
});

describe('sequential id factory', () => {
  it('makes ids of the same shape as createId, all distinct', () => {
    const next = createSequentialIdFactory('event');
    const ids = Array.from({ length: 10_000 }, next);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 100)) expect(isEventId(id)).toBe(true);
  });

  it('draws a new random epoch when the counter wraps', () => {
    const next = createSequentialIdFactory('event', 1);
    const ids = Array.from({ length: 36 * 3 + 1 }, next);
    expect(new Set(ids).size).toBe(ids.length);
    const epochs = new Set(ids.map((id) => id.slice(0, -1)));
    expect(epochs.size).toBe(4);
    for (const id of ids) expect(isEventId(id)).toBe(true);
  });

  it('two factories never produce the same id (random epochs)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (count) => {
        const a = createSequentialIdFactory('event');
        const b = createSequentialIdFactory('event');
        const seen = new Set<string>();
        for (let i = 0; i < count; i++) {
          seen.add(a());
          seen.add(b());
        }
        return seen.size === count * 2;
      }),
      { numRuns: 50 },
    );
  });
});
