import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { createBus } from '../../bus/local-bus.js';
import { eventEnvelopeSchema } from '../../bus/schemas.js';
import type { Bus } from '../../bus/types.js';
import { settle } from '../support/wait.js';

const TOPICS = ['a', 'a.b', 'a.c', 'a.b.c', 'x.output'] as const;
const PATTERNS = ['**', 'a', 'a.b', 'a.*', 'a.b.*', 'x.*', 'x.output'] as const;

/** The oracle: which topics a pattern matches, written independently of the bus's index. */
function matches(pattern: string, topic: string): boolean {
  if (pattern === '**') return true;
  if (pattern.endsWith('.*')) {
    const parent = pattern.slice(0, -2);
    return topic.startsWith(`${parent}.`) && !topic.slice(parent.length + 1).includes('.');
  }
  return pattern === topic;
}

interface ModelSubscription {
  readonly pattern: string;
  readonly expected: EventEnvelope[];
  readonly received: EventEnvelope[];
  unsubscribe: (() => void) | undefined;
}

interface Model {
  readonly subscriptions: ModelSubscription[];
  readonly published: EventEnvelope[];
}

interface Real {
  readonly bus: Bus;
}

class Subscribe implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pattern: string,
    readonly asyncDelays: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const entry: ModelSubscription = { pattern: this.pattern, expected: [], received: [], unsubscribe: undefined };
    const delays = this.asyncDelays;
    entry.unsubscribe = real.bus.subscribe(this.pattern, (event) => {
      entry.received.push(event);
      if (delays === 0) return;
      // An async handler that yields a few times: deliveries interleave across subscribers.
      return (async () => {
        for (let i = 0; i < delays; i++) await Promise.resolve();
      })();
    });
    model.subscriptions.push(entry);
  }
  toString = () => `subscribe(${this.pattern}, delays=${this.asyncDelays})`;
}

class Unsubscribe implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.subscriptions.some((s) => s.unsubscribe !== undefined);
  async run(model: Model): Promise<void> {
    const live = model.subscriptions.filter((s) => s.unsubscribe !== undefined);
    const target = live[this.pick % live.length] as ModelSubscription;
    target.unsubscribe?.();
    target.unsubscribe = undefined;
  }
  toString = () => `unsubscribe(#${this.pick})`;
}

class Publish implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly topic: string,
    readonly count: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const event = real.bus.publish(this.topic, { i });
      model.published.push(event);
      for (const s of model.subscriptions) {
        if (s.unsubscribe !== undefined && matches(s.pattern, this.topic)) s.expected.push(event);
      }
    }
  }
  toString = () => `publish(${this.topic} x${this.count})`;
}

class Settle implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(): Promise<void> {
    await settle();
  }
  toString = () => 'settle';
}

const commands = [
  fc.tuple(fc.constantFrom(...PATTERNS), fc.nat(3)).map(([p, d]) => new Subscribe(p, d)),
  fc.nat(20).map((n) => new Unsubscribe(n)),
  fc.tuple(fc.constantFrom(...TOPICS), fc.integer({ min: 1, max: 5 })).map(([t, n]) => new Publish(t, n)),
  fc.constant(new Settle()),
];

describe('bus model (fast-check)', () => {
  it('delivers every event to every live matching subscriber exactly once, in order, with gap-free sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60 }), async (cmds) => {
        const model: Model = { subscriptions: [], published: [] };
        const real: Real = { bus: createBus() };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        await settle(4);

        for (const s of model.subscriptions) {
          if (s.unsubscribe === undefined) {
            // Unsubscribed: what arrived is an in-order prefix of what it should have received.
            expect(s.received).toEqual(s.expected.slice(0, s.received.length));
          } else {
            expect(s.received).toEqual(s.expected);
          }
        }
        const sequences = new Map<string, number[]>();
        for (const event of model.published) {
          eventEnvelopeSchema.parse(event);
          sequences.set(event.topic, [...(sequences.get(event.topic) ?? []), event.sequence]);
        }
        for (const list of sequences.values()) expect(list).toEqual(list.map((_, i) => i + 1));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps per-topic sequences gap-free and uninverted under concurrent async publishers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.tuple(fc.constantFrom('p.one', 'p.two'), fc.integer({ min: 1, max: 8 })), {
          minLength: 2,
          maxLength: 6,
        }),
        async (scheduler, publishers) => {
          const bus = createBus();
          const seen = new Map<string, EventEnvelope[]>();
          bus.subscribe('p.*', (event) => {
            seen.set(event.topic, [...(seen.get(event.topic) ?? []), event]);
          });
          const runs = publishers.map(async ([topic, count], publisher) => {
            for (let i = 0; i < count; i++) {
              await scheduler.schedule(Promise.resolve(), `publisher ${publisher} step ${i}`);
              bus.publish(topic, { publisher, i });
            }
          });
          await scheduler.waitFor(Promise.all(runs));
          await settle();
          for (const [topic, events] of seen) {
            const total = publishers.filter(([t]) => t === topic).reduce((sum, [, n]) => sum + n, 0);
            expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
            // Each publisher's own events keep its order.
            for (let p = 0; p < publishers.length; p++) {
              const own = events
                .map((e) => e.payload as { publisher: number; i: number })
                .filter((x) => x.publisher === p);
              expect(own.map((x) => x.i)).toEqual(own.map((_, i) => i));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
