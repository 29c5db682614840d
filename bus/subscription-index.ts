import type { Subscription } from './subscription.js';

/**
 * Subscriptions by pattern kind, so that routing an event costs three map lookups whatever the
 * number of subscriptions, and adding or removing one is O(1).
 */
export class SubscriptionIndex {
  readonly #all = new Set<Subscription>();
  readonly #exact = new Map<string, Set<Subscription>>();
  readonly #children = new Map<string, Set<Subscription>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(subscription: Subscription): void {
    const bucket = this.#bucketFor(subscription, true);
    bucket.add(subscription);
    this.#size++;
  }

  /** Returns false when the subscription was not (or no longer) indexed. */
  remove(subscription: Subscription): boolean {
    const bucket = this.#bucketFor(subscription, false);
    if (!bucket?.delete(subscription)) return false;
    this.#size--;
    const { parsed } = subscription;
    if (bucket.size === 0 && parsed.kind === 'exact') this.#exact.delete(parsed.topic);
    if (bucket.size === 0 && parsed.kind === 'children') this.#children.delete(parsed.parent);
    return true;
  }

  /** Subscriptions whose pattern is exactly `topic`. */
  exact(topic: string): ReadonlySet<Subscription> | undefined {
    return this.#exact.get(topic);
  }

  /** Subscriptions whose pattern is `parent.*`. */
  children(parent: string): ReadonlySet<Subscription> | undefined {
    return this.#children.get(parent);
  }

  /** Subscriptions whose pattern is `**`. */
  get all(): ReadonlySet<Subscription> {
    return this.#all;
  }

  *[Symbol.iterator](): IterableIterator<Subscription> {
    yield* this.#all;
    for (const bucket of this.#exact.values()) yield* bucket;
    for (const bucket of this.#children.values()) yield* bucket;
  }

  #bucketFor(subscription: Subscription, create: true): Set<Subscription>;
  #bucketFor(subscription: Subscription, create: false): Set<Subscription> | undefined;
  #bucketFor(subscription: Subscription, create: boolean): Set<Subscription> | undefined {
    const { parsed } = subscription;
    if (parsed.kind === 'all') return this.#all;
    const map = parsed.kind === 'exact' ? this.#exact : this.#children;
    const key = parsed.kind === 'exact' ? parsed.topic : parsed.parent;
    let bucket = map.get(key);
    if (bucket === undefined && create) {
      bucket = new Set();
      map.set(key, bucket);
    }
    return bucket;
  }
}
