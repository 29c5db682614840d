import { describe, expect, it } from 'vitest';
import { EventRing } from '../../server/event-ring.js';

/** The SSE backlog: the last N events by id, bounded by count and by size. */
describe('the event ring', () => {
  it('holds the last `capacity` events with consecutive ids', () => {
    const ring = new EventRing(3, 1_000_000);
    for (let n = 0; n < 10; n++) ring.push('t', String(n));
    expect(ring.oldestId).toBe(8);
    expect(ring.nextId).toBe(11);
    expect(ring.after(0).map((event) => event.id)).toEqual([8, 9, 10]);
    expect(ring.after(9).map((event) => event.frame)).toEqual(['id: 10\ndata: 9\n\n']);
    expect(ring.after(10)).toEqual([]);
  });

  it('drops the oldest past its size bound, always keeping the newest', () => {
    const ring = new EventRing(100, 100);
    ring.push('t', 'x'.repeat(40));
    ring.push('t', 'x'.repeat(40));
    expect(ring.after(0).map((event) => event.id)).toEqual([2]);
    ring.push('t', 'x'.repeat(500));
    expect(ring.after(0).map((event) => event.id)).toEqual([3]);
    for (let n = 0; n < 300; n++) ring.push('t', 'y');
    // Count stays exact across wraps: 100 chars hold this many small frames.
    const held = ring.after(0);
    expect(held.reduce((sum, event) => sum + event.frame.length, 0)).toBeLessThanOrEqual(100);
    expect(held.at(-1)?.id).toBe(303);
  });
});

describe('an event ring that starts at a given id', () => {
  it('gives its first event that id and holds from there', () => {
    const ring = new EventRing(3, 1_000_000, 5_000);
    expect(ring.firstId).toBe(5_000);
    ring.push('a', '1');
    ring.push('b', '2');
    expect(ring.after(0).map((event) => event.id)).toEqual([5_000, 5_001]);
    expect(ring.oldestId).toBe(5_000);
    expect(ring.nextId).toBe(5_002);
  });
});
