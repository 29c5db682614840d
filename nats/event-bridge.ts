import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { EventEnvelope, Runtime } from '../index.js';
import type { ResolvedNatsOptions } from './options.js';
import { OutboundQueue } from './outbound-queue.js';
import { ensureStream } from './stream.js';
import {
  eventSubject,
  firstSegment,
  isBridgeableSegment,
  RESERVED_FIRST_SEGMENTS,
  streamSubjectsOf,
} from './subjects.js';
import { natsCodeOf } from './wire.js';

/** Publishes in flight at once: enough to keep loopback busy, few enough to retry cheaply. */
export const PUBLISH_WINDOW = 256;
/** How long a publish waits for JetStream's acknowledgement before it is tried again. */
export const PUBLISH_ACK_TIMEOUT_MS = 5_000;
/** A failed publish while connected (JetStream not ready yet) is tried again after this long. */
export const PUBLISH_RETRY_MS = 250;
/** The bridge's bus subscription holds this many events before it hands them to its own queue. */
const BRIDGE_SUBSCRIPTION_QUEUE = 1_000_000;

const encoder = new TextEncoder();

export interface BridgeStats {
  /** Events stored in the stream (duplicates of a retry not counted twice). */
  readonly published: number;
  /** Waiting for NATS or being published. */
  readonly buffered: number;
  /** Dropped because the buffer was full (or an event too large for NATS). */
  readonly dropped: number;
  readonly connected: boolean;
}

/**
 * The runtime's bus onto JetStream: every envelope, in bus order, to
 * `<prefix>.<runtimeId>.<topic>` with the envelope's id as `Nats-Msg-Id`, so a publish retried
 * after a lost acknowledgement is stored once. While NATS is away events wait in a bounded
 * queue (the runtime never waits for NATS); after the reconnect they go out in order.
 */
export class EventBridge {
  readonly #queue: OutboundQueue;
  readonly #segments = new Set<string>();
  /** User topics' first segments the stream could not bind (no permission, overlapping streams): published live only. */
  readonly #liveOnly = new Set<string>();
  readonly #unsubscribe: () => void;
  #published = 0;
  #pumping = false;
  /** The last batch failed part-way: the next one checks what the stream already has. */
  #retrying = false;
  #closed = false;
  #connected = true;
  #wake: (() => void) | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: ResolvedNatsOptions,
    /** The runtime shut down; its last event is queued. */
    private readonly onRuntimeStopped: () => void,
  ) {
    this.#queue = new OutboundQueue(options.maxBufferedEvents);
    this.#unsubscribe = rt.bus.subscribe('**', (event) => this.#accept(event), {
      queueLimit: BRIDGE_SUBSCRIPTION_QUEUE,
    });
  }

  stats(): BridgeStats {
    return {
      published: this.#published,
      buffered: this.#queue.size,
      dropped: this.#queue.dropped,
      connected: this.#connected,
    };
  }

  /** NATS went away or came back (from the link's status loop). */
  connectionChanged(connected: boolean): void {
    this.#connected = connected;
    if (connected) this.#wakeUp();
  }

  /** Publishes what is waiting, for at most `ms`; resolves once the queue is empty or time is up. */
  async flush(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#queue.size > 0 && Date.now() < deadline && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#wakeUp();
  }

  #accept(event: EventEnvelope): void {
    const segment = firstSegment(event.topic);
    if (!isBridgeableSegment(segment)) return;
    if (event.topic === 'pty.output' && !this.options.ptyOutput) return;
    this.#queue.push(event);
    void this.#pump();
    if (event.topic === 'runtime.stopped') this.onRuntimeStopped();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#queue.size > 0) {
        if (!this.#connected) await this.#sleep(undefined);
        if (this.#closed) return;
        const batch = this.#queue.take(PUBLISH_WINDOW);
        if (batch.length === 0) return;
        const acked = await this.#publishBatch(batch);
        this.#queue.settle(batch, acked);
        if (acked < batch.length) await this.#sleep(PUBLISH_RETRY_MS);
        else this.#reportDrops();
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** How many of `batch`, from its start, are stored (an event too large for NATS is skipped, counted). */
  async #publishBatch(batch: readonly EventEnvelope[]): Promise<number> {
    try {
      await this.#ensureSegments(batch);
    } catch {
      return 0;
    }
    const { prefix } = this.options;
    const stored = this.#retrying ? await this.#alreadyStored(batch) : new Set<EventEnvelope>();
    const results = await Promise.allSettled(
      batch.map((event) =>
        stored.has(event)
          ? Promise.resolve({ duplicate: true })
          : this.#liveOnly.has(firstSegment(event.topic))
            ? this.#publishLive(event)
            : this.js.publish(eventSubject(prefix, this.rt.id, event.topic), encoder.encode(JSON.stringify(event)), {
                msgID: event.id,
                timeout: PUBLISH_ACK_TIMEOUT_MS,
              }),
      ),
    );
    let acked = 0;
    this.#retrying = false;
    for (const result of results) {
      if (result.status === 'fulfilled') {
        if (!result.value.duplicate) this.#published++;
      } else if (natsCodeOf(result.reason) === 'MAX_PAYLOAD_EXCEEDED') {
        this.#queue.discard(batch, acked);
      } else {
        // The stream may be gone (a server started over without its store): made again next time.
        if (natsCodeOf(result.reason) === '503') this.#segments.clear();
        this.#retrying = true;
        break;
      }
      acked++;
    }
    return acked;
  }

  /**
   * A publish whose acknowledgement was lost may have been stored: past the stream's duplicate
   * window its id no longer protects it, so before a retry the last stored event of each topic
   * says which of the batch are in already (a topic's events are stored in sequence order).
   */
  async #alreadyStored(batch: readonly EventEnvelope[]): Promise<Set<EventEnvelope>> {
    const stored = new Set<EventEnvelope>();
    const lastSequence = new Map<string, number>();
    for (const topic of new Set(batch.map((event) => event.topic))) {
      const subject = eventSubject(this.options.prefix, this.rt.id, topic);
      try {
        const last = await this.jsm.streams.getMessage(this.options.streamName, { last_by_subj: subject });
        lastSequence.set(topic, (last.json() as EventEnvelope).sequence);
      } catch {
        // Nothing stored on that subject (or the stream is not back yet): publish them all.
      }
    }
    for (const event of batch) if (event.sequence <= (lastSequence.get(event.topic) ?? 0)) stored.add(event);
    return stored;
  }

  /** The stream binds every first segment the bridge publishes (user topics too) before it is used. */
  async #ensureSegments(batch: readonly EventEnvelope[]): Promise<void> {
    const { prefix, streamName } = this.options;
    const limits = this.options;
    if (this.#segments.size === 0) {
      await ensureStream(this.jsm, streamName, prefix, limits);
      for (const segment of RESERVED_FIRST_SEGMENTS) this.#segments.add(segment);
    }
    for (const event of batch) {
      const segment = firstSegment(event.topic);
      if (this.#segments.has(segment) || this.#liveOnly.has(segment)) continue;
      try {
        await ensureStream(this.jsm, streamName, prefix, limits, streamSubjectsOf(prefix, segment));
        this.#segments.add(segment);
      } catch {
        // One user topic the stream cannot take must not hold up every event behind it.
        this.#liveOnly.add(segment);
      }
    }
  }

  /** An event of a topic the stream does not bind: to live subscribers, not stored. */
  async #publishLive(event: EventEnvelope): Promise<{ duplicate: boolean }> {
    this.nc.publish(eventSubject(this.options.prefix, this.rt.id, event.topic), encoder.encode(JSON.stringify(event)));
    return { duplicate: false };
  }

  /** Drops are told on `<prefix>.<runtimeId>._bridge.dropped` once NATS takes events again (not a bus topic: none starts with `_`). */
  #reportDrops(): void {
    const report = this.#queue.takeDropReport();
    if (report === undefined) return;
    const notice = { runtimeId: this.rt.id, ...report, totalDropped: this.#queue.dropped };
    this.nc.publish(eventSubject(this.options.prefix, this.rt.id, '_bridge.dropped'), JSON.stringify(notice));
  }

  #sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.#wakeUp(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  #wakeUp(): void {
    this.#wake?.();
  }
}
