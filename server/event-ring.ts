/** One held event: its SSE id and the frame already serialized, so each client costs one write. */
export interface HeldEvent {
  readonly id: number;
  readonly topic: string;
  readonly frame: string;
}

/**
 * The last events by consecutive id, at most `capacity` of them and at most `maxChars` of frames
 * (so a run of large payloads cannot make the backlog hold gigabytes), in a fixed array:
 * appending never shifts.
 */
export class EventRing {
  readonly #slots: Array<HeldEvent | undefined>;
  #nextId: number;
  #oldestId: number;
  #chars = 0;

  /** `firstId` (at least 1, so 0 always means "from the start") is the first event's id. */
  constructor(
    readonly capacity: number,
    readonly maxChars: number,
    firstId = 1,
  ) {
    this.#slots = new Array(capacity);
    this.firstId = firstId;
    this.#nextId = firstId;
    this.#oldestId = firstId;
  }

  /** The id of the first event this ring ever held. */
  readonly firstId: number;

  /** The id the next event gets. */
  get nextId(): number {
    return this.#nextId;
  }

  /** The oldest id still held. */
  get oldestId(): number {
    return this.#oldestId;
  }

  push(topic: string, data: string): HeldEvent {
    const id = this.#nextId++;
    const event = { id, topic, frame: `id: ${id}\ndata: ${data}\n\n` };
    while (id - this.#oldestId >= this.capacity) this.#evictOldest();
    this.#slots[id % this.capacity] = event;
    this.#chars += event.frame.length;
    // The newest event is always held, whatever its size.
    while (this.#oldestId < id && this.#chars > this.maxChars) this.#evictOldest();
    return event;
  }

  /** Every held event after `id`, oldest first. */
  after(id: number): HeldEvent[] {
    const out: HeldEvent[] = [];
    for (let next = Math.max(id + 1, this.#oldestId); next < this.#nextId; next++) {
      out.push(this.#slots[next % this.capacity] as HeldEvent);
    }
    return out;
  }

  #evictOldest(): void {
    const slot = this.#oldestId % this.capacity;
    const evicted = this.#slots[slot];
    if (evicted !== undefined) this.#chars -= evicted.frame.length;
    this.#slots[slot] = undefined;
    this.#oldestId++;
  }
}
