import type { BusEvent } from './types.js';

/** An event as the stream gave it: with its SSE id. */
export interface HeldEvent {
  readonly id: string;
  readonly event: BusEvent;
}

/**
 * The newest events a tab has seen, by SSE id: what it hands a tab that joins the shared stream
 * (so that tab's timeline has a past), what it resumes from when it takes the stream over
 * (`lastId`), and how an event that reaches it twice at a handover is told apart.
 */
export class EventHistory {
  readonly #held: HeldEvent[] = [];
  readonly #ids = new Set<string>();
  /** The id of the newest event seen; "0" before any (a stream from "0" brings all the server holds). */
  lastId = '0';

  constructor(private readonly max: number) {}

  get events(): readonly HeldEvent[] {
    return this.#held;
  }

  /** Records `held`; false when it was already seen (nothing changes then). */
  add(held: HeldEvent): boolean {
    if (held.id === '') return true;
    if (this.#ids.has(held.id)) return false;
    this.#held.push(held);
    this.#ids.add(held.id);
    this.lastId = held.id;
    if (this.#held.length > this.max) {
      const oldest = this.#held.shift() as HeldEvent;
      this.#ids.delete(oldest.id);
    }
    return true;
  }
}
