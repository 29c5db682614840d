import type { EventEnvelope } from '../index.js';

/**
 * The events waiting for NATS, in bus order, at most `limit` of them: when it is full the oldest
 * waiting one goes and is counted (a consumer sees the gap in that topic's sequence). Events
 * handed to a publish are not waiting; a failed publish puts its events back at the front.
 */
export class OutboundQueue {
  #items: EventEnvelope[] = [];
  #head = 0;
  #inFlight = 0;
  dropped = 0;
  /** Dropped since the last `takeDropReport`: what the next notice says. */
  #episodeDropped = 0;
  #lastDroppedTopic = '';

  constructor(private readonly limit: number) {}

  /** Waiting plus being published. */
  get size(): number {
    return this.#items.length - this.#head + this.#inFlight;
  }

  push(event: EventEnvelope): void {
    if (this.size >= this.limit && this.#items.length > this.#head) this.#dropOldest();
    if (this.size >= this.limit) {
      // Everything held is in flight: the newest is the one that cannot be kept.
      this.#count(event.topic);
      return;
    }
    this.#items.push(event);
  }

  /** Up to `count` waiting events, now in flight. */
  take(count: number): EventEnvelope[] {
    const batch = this.#items.slice(this.#head, this.#head + count);
    this.#head += batch.length;
    this.#inFlight += batch.length;
    this.#compact();
    return batch;
  }

  /** The publish of `batch` ended: its first `acked` are stored, the rest wait again at the front. */
  settle(batch: readonly EventEnvelope[], acked: number): void {
    this.#inFlight -= batch.length;
    const again = batch.slice(acked);
    if (again.length === 0) return;
    this.#items = [...again, ...this.#items.slice(this.#head)];
    this.#head = 0;
    while (this.size > this.limit) this.#dropOldest();
  }

  /** An event that can never be published (too large for NATS): counted as dropped. */
  discard(batch: readonly EventEnvelope[], index: number): void {
    this.#count((batch[index] as EventEnvelope).topic);
  }

  takeDropReport(): { dropped: number; lastTopic: string } | undefined {
    if (this.#episodeDropped === 0) return undefined;
    const report = { dropped: this.#episodeDropped, lastTopic: this.#lastDroppedTopic };
    this.#episodeDropped = 0;
    return report;
  }

  #dropOldest(): void {
    const oldest = this.#items[this.#head] as EventEnvelope;
    this.#head++;
    this.#count(oldest.topic);
    this.#compact();
  }

  #count(topic: string): void {
    this.dropped++;
    this.#episodeDropped++;
    this.#lastDroppedTopic = topic;
  }

  #compact(): void {
    if (this.#head > 1_024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
