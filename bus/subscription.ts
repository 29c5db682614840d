import type { EventEnvelope } from './envelopes.js';
import type { SubscriptionId } from './ids.js';
import type { EventClass, ParsedPattern } from './topics.js';

export type EventHandler = (event: EventEnvelope) => void | Promise<void>;

/** What a subscription needs from its bus: delivery context and the reports it makes. */
export interface SubscriptionHost {
  deliver(handler: EventHandler, event: EventEnvelope): void | Promise<void>;
  handlerFailed(subscription: Subscription, event: EventEnvelope, error: unknown): void;
  overflowed(subscription: Subscription, event: EventEnvelope): void;
  dropsChanged(subscription: Subscription, phase: 'started' | 'ended'): void;
}

export interface SubscriptionInit {
  readonly id: SubscriptionId;
  readonly pattern: string;
  readonly parsed: ParsedPattern;
  readonly handler: EventHandler;
  readonly queueLimit: number;
  readonly onError: ((error: Error) => void) | undefined;
}

/**
 * Events of bus diagnostics (`bus.*`) may go this far past a full queue, so that the notice about
 * a lagging subscriber never disconnects that same subscriber.
 */
export const DIAGNOSTIC_QUEUE_RESERVE = 1_000;
/** A drained prefix of the queue longer than this is cut off, so the array does not grow forever. */
const QUEUE_COMPACTION_THRESHOLD = 1_024;

/**
 * `open` takes events; `disconnecting` takes no more but delivers what it holds, then reports
 * its error; `closed` delivers nothing more.
 */
type SubscriptionState = 'open' | 'disconnecting' | 'closed';

/**
 * One subscriber: a bounded FIFO queue drained asynchronously, one event at a time, waiting for
 * an async handler before the next event, so a handler never runs concurrently with itself.
 */
export class Subscription {
  readonly id: SubscriptionId;
  readonly pattern: string;
  readonly parsed: ParsedPattern;
  readonly queueLimit: number;
  totalDropped = 0;
  episodeDropped = 0;
  lastDroppedTopic = '';
  readonly #init: SubscriptionInit;
  readonly #host: SubscriptionHost;
  #state: SubscriptionState = 'open';
  #disconnectError: Error | undefined;
  #queue: (EventEnvelope | undefined)[] = [];
  #head = 0;
  #draining = false;

  constructor(init: SubscriptionInit, host: SubscriptionHost) {
    this.id = init.id;
    this.pattern = init.pattern;
    this.parsed = init.parsed;
    this.queueLimit = init.queueLimit;
    this.#init = init;
    this.#host = host;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  enqueue(event: EventEnvelope, eventClass: EventClass): void {
    if (this.#state !== 'open') return;
    const limit = eventClass === 'diagnostic' ? this.queueLimit + DIAGNOSTIC_QUEUE_RESERVE : this.queueLimit;
    if (this.queued >= limit) {
      if (eventClass === 'high-volume') this.#drop(event);
      else this.#host.overflowed(this, event);
      return;
    }
    this.#queue.push(event);
    if (!this.#draining) {
      this.#draining = true;
      queueMicrotask(this.#drain);
    }
  }

  /** Unsubscribe: stops delivery at once; queued events are discarded. */
  close(): void {
    this.#state = 'closed';
    this.#queue = [];
    this.#head = 0;
  }

  /** Takes no more events; delivers those already queued, then hands `error` to onError. */
  disconnect(error: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'disconnecting';
    this.#disconnectError = error;
    if (!this.#draining) this.#finishDisconnect();
  }

  /** Calls the subscriber's onError; a failure of that callback has nowhere left to go. */
  notifyError(error: Error): void {
    try {
      this.#init.onError?.(error);
    } catch {
      // Ignored by contract (see SubscribeOptions.onError).
    }
  }

  /** Reports the end of a run of dropped events (caught up, or closed) and starts counting anew. */
  endDropEpisode(): void {
    this.#host.dropsChanged(this, 'ended');
    this.episodeDropped = 0;
  }

  #drop(event: EventEnvelope): void {
    this.totalDropped++;
    this.episodeDropped++;
    this.lastDroppedTopic = event.topic;
    if (this.episodeDropped === 1) this.#host.dropsChanged(this, 'started');
  }

  readonly #drain = (): void => {
    while (this.#state !== 'closed' && this.#head < this.#queue.length) {
      const event = this.#queue[this.#head] as EventEnvelope;
      this.#queue[this.#head++] = undefined;
      let outcome: void | Promise<void>;
      try {
        outcome = this.#host.deliver(this.#init.handler, event);
      } catch (error) {
        this.#host.handlerFailed(this, event, error);
        continue;
      }
      if (isThenable(outcome)) {
        outcome.then(this.#drain, (error: unknown) => {
          this.#host.handlerFailed(this, event, error);
          this.#drain();
        });
        this.#compact();
        return;
      }
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.#draining = false;
    if (this.#state === 'disconnecting') this.#finishDisconnect();
    else if (this.#state === 'open' && this.episodeDropped > 0) this.endDropEpisode();
  };

  #finishDisconnect(): void {
    this.#state = 'closed';
    if (this.#disconnectError !== undefined) this.notifyError(this.#disconnectError);
    this.#disconnectError = undefined;
  }

  #compact(): void {
    if (this.#head > QUEUE_COMPACTION_THRESHOLD && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<void> {
  return typeof (value as PromiseLike<void> | undefined)?.then === 'function';
}
