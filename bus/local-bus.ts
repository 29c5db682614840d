import { z } from 'zod';
import { CorrelationScope } from './correlation.js';
import type { CommandEnvelope, EventEnvelope, ResponseEnvelope } from './envelopes.js';
import { LanevisorError } from './errors.js';
import { createId, createSequentialIdFactory } from './ids.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './json-value.js';
import {
  isLifecycleTopic,
  LIFECYCLE_PAYLOAD_SCHEMAS,
  type LifecyclePayload,
  type LifecycleTopic,
} from './lifecycle.js';
import { type CommandHandler, RequestRouter } from './requests.js';
import { commandEnvelopeSchema, correlationIdSchema, timeoutMsSchema, topicSchema } from './schemas.js';
import { SubscriberDiagnostics } from './subscriber-diagnostics.js';
import { type EventHandler, Subscription } from './subscription.js';
import { SubscriptionIndex } from './subscription-index.js';
import { classifyTopic, type EventClass, isReservedTopic, parentOfTopic, parsePattern } from './topics.js';
import type { Bus, BusOptions, BusStats, PublishOptions, RequestOptions, SubscribeOptions } from './types.js';
import { assertFunction, assertJsonValue, parseOrThrow, validationError } from './validation.js';

export const DEFAULT_QUEUE_LIMIT = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** A queue limit beyond this is a memory bound in name only. */
export const MAX_QUEUE_LIMIT = 10_000_000;

const queueLimitSchema = z.number().int().min(1).max(MAX_QUEUE_LIMIT);
const busOptionsSchema = z.strictObject({
  maxPayloadBytes: z.number().int().min(1).optional(),
  queueLimit: queueLimitSchema.optional(),
  requestTimeoutMs: timeoutMsSchema.optional(),
});
const subscribeOptionsSchema = z.strictObject({
  queueLimit: queueLimitSchema.optional(),
  onError: z.function().optional(),
});

interface TopicState {
  sequence: number;
  readonly parent: string | undefined;
  readonly eventClass: EventClass;
  readonly reserved: boolean;
}

/** The in-process bus. Use `createBus()`; the runtime publishes lifecycle events through it. */
export class LocalBus implements Bus {
  readonly #topics = new Map<string, TopicState>();
  readonly #index = new SubscriptionIndex();
  readonly #correlation = new CorrelationScope();
  readonly #diagnostics = new SubscriberDiagnostics(
    this.#correlation,
    (topic, payload, options) => this.publishLifecycle(topic, payload, options),
    (subscription) => this.#index.remove(subscription),
  );
  readonly #requests: RequestRouter;
  readonly #nextEventId = createSequentialIdFactory('event');
  readonly #nextCorrelationId = createSequentialIdFactory('correlation');
  readonly #nextCommandId = createSequentialIdFactory('command');
  readonly #maxPayloadBytes: number;
  readonly #queueLimit: number;
  #published = 0;

  constructor(options: BusOptions = {}) {
    const parsed = parseOrThrow(busOptionsSchema, options, 'options', 'INVALID_ARGUMENT');
    this.#maxPayloadBytes = parsed.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#queueLimit = parsed.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.#requests = new RequestRouter(this.#correlation, {
      maxPayloadBytes: this.#maxPayloadBytes,
      defaultTimeoutMs: parsed.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    });
  }

  subscribe(pattern: string, handler: EventHandler, options: SubscribeOptions = {}): () => void {
    const parsedPattern = typeof pattern === 'string' ? parsePattern(pattern) : undefined;
    if (parsedPattern === undefined) {
      throw validationError(
        'pattern',
        `pattern ${JSON.stringify(pattern)} is not a topic, "prefix.*" or "**"`,
        'INVALID_ARGUMENT',
      );
    }
    assertFunction(handler, 'handler');
    const parsed = parseOrThrow(subscribeOptionsSchema, options, 'options', 'INVALID_ARGUMENT');
    const subscription = new Subscription(
      {
        id: createId('subscription'),
        pattern,
        parsed: parsedPattern,
        handler,
        queueLimit: parsed.queueLimit ?? this.#queueLimit,
        onError: options.onError,
      },
      this.#diagnostics,
    );
    this.#index.add(subscription);
    return () => this.#unsubscribe(subscription);
  }

  publish(topic: string, payload: unknown, options?: PublishOptions): EventEnvelope {
    const state = this.#topicState(topic);
    if (state.reserved) {
      throw validationError(
        'topic',
        `topic "${topic}" is reserved to lanevisor (lane., pty., supervisor., runtime., bus.); publish under your own prefix`,
      );
    }
    return this.#emit(topic, state, payload, options?.correlationId);
  }

  /** Publishes a lifecycle event; only lanevisor's own layers call this. */
  publishLifecycle<T extends LifecycleTopic>(
    topic: T,
    payload: LifecyclePayload<T>,
    options?: PublishOptions,
  ): EventEnvelope<LifecyclePayload<T>> {
    const state = this.#topicState(topic);
    parseOrThrow<unknown>(LIFECYCLE_PAYLOAD_SCHEMAS[topic], payload, 'payload');
    return this.#emit(topic, state, payload, options?.correlationId) as EventEnvelope<LifecyclePayload<T>>;
  }

  handle(method: string, handler: CommandHandler): () => void {
    parseOrThrow(commandEnvelopeSchema.shape.method, method, 'method', 'INVALID_ARGUMENT');
    assertFunction(handler, 'handler');
    return this.#requests.register(method, handler);
  }

  async request(method: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    const command = this.#validateCommand({
      id: this.#nextCommandId(),
      type: 'command',
      method,
      timestamp: Date.now(),
      correlationId: options.correlationId ?? this.#currentOrNewCorrelationId(),
      payload,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    const response = await this.#requests.execute(command);
    if (response.ok) return response.result;
    throw new LanevisorError(
      response.error.code,
      response.error.message,
      response.error.details ? { details: response.error.details } : {},
    );
  }

  async send(command: unknown): Promise<ResponseEnvelope> {
    return this.#requests.execute(this.#validateCommand(command));
  }

  currentCorrelationId(): string | undefined {
    return this.#correlation.current();
  }

  withCorrelation<T>(correlationId: string, fn: () => T): T {
    parseOrThrow(correlationIdSchema, correlationId, 'correlationId', 'INVALID_ARGUMENT');
    return this.#correlation.run(correlationId, fn);
  }

  stats(): BusStats {
    return {
      published: this.#published,
      topics: this.#topics.size,
      handlers: this.#requests.size,
      subscriptions: [...this.#index].map((s) => ({
        id: s.id,
        pattern: s.pattern,
        queued: s.queued,
        queueLimit: s.queueLimit,
        dropped: s.totalDropped,
      })),
    };
  }

  #unsubscribe(subscription: Subscription): void {
    this.#index.remove(subscription);
    subscription.close();
    if (subscription.episodeDropped > 0) subscription.endDropEpisode();
  }

  #topicState(topic: string): TopicState {
    const known = this.#topics.get(topic);
    if (known !== undefined) return known;
    parseOrThrow(topicSchema, topic, 'topic');
    const reserved = isReservedTopic(topic);
    if (reserved && !isLifecycleTopic(topic)) {
      throw validationError('topic', `topic "${topic}" is reserved to lanevisor and not in its lifecycle catalog`);
    }
    const state: TopicState = {
      sequence: 0,
      parent: parentOfTopic(topic),
      eventClass: classifyTopic(topic),
      reserved,
    };
    this.#topics.set(topic, state);
    return state;
  }

  #emit(topic: string, state: TopicState, payload: unknown, correlationId: string | undefined): EventEnvelope {
    assertJsonValue(payload, 'payload', this.#maxPayloadBytes);
    if (correlationId !== undefined) parseOrThrow(correlationIdSchema, correlationId, 'correlationId');
    const event: EventEnvelope = {
      id: this.#nextEventId(),
      type: 'event',
      topic,
      sequence: ++state.sequence,
      timestamp: Date.now(),
      correlationId: correlationId ?? this.#currentOrNewCorrelationId(),
      payload,
    };
    this.#published++;
    this.#enqueueAll(this.#index.exact(topic), event, state.eventClass);
    if (state.parent !== undefined) this.#enqueueAll(this.#index.children(state.parent), event, state.eventClass);
    this.#enqueueAll(this.#index.all, event, state.eventClass);
    return event;
  }

  #enqueueAll(
    subscriptions: ReadonlySet<Subscription> | undefined,
    event: EventEnvelope,
    eventClass: EventClass,
  ): void {
    if (subscriptions === undefined) return;
    for (const subscription of subscriptions) subscription.enqueue(event, eventClass);
  }

  #validateCommand(command: unknown): CommandEnvelope {
    const valid = parseOrThrow(commandEnvelopeSchema, command, 'command') as CommandEnvelope;
    assertJsonValue(valid.payload, 'command.payload', this.#maxPayloadBytes);
    return valid;
  }

  #currentOrNewCorrelationId(): string {
    return this.#correlation.current() ?? this.#nextCorrelationId();
  }
}

export function createBus(options?: BusOptions): Bus {
  return new LocalBus(options);
}

/** lanevisor's own layers publish lifecycle events, which only a bus made by `createBus()` takes. */
export function asLocalBus(bus: Bus): LocalBus {
  if (bus instanceof LocalBus) return bus;
  throw new LanevisorError('INVALID_ARGUMENT', 'bus must be made with createBus() from lanevisor');
}
