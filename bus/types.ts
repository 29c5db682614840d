import type { CommandEnvelope, EventEnvelope, ResponseEnvelope } from './envelopes.js';
import type { SubscriptionId } from './ids.js';

export type { CommandHandler } from './requests.js';
export type { EventHandler } from './subscription.js';

export interface BusOptions {
  /** Largest payload (or result) accepted, serialized as JSON. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Queue limit of a subscription that does not set its own. Default 10,000 events. */
  readonly queueLimit?: number;
  /** How long `request` waits when the caller sets no timeout. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

export interface SubscribeOptions {
  /** Events waiting for this subscriber at most; see the backpressure policy. Default 10,000. */
  readonly queueLimit?: number;
  /**
   * Called with a LanevisorError when this subscriber's handler throws or rejects (HANDLER_ERROR,
   * the original error as `cause`) and when the subscription is closed because its queue
   * overflowed with an event that may not be dropped (BACKPRESSURE). Errors it throws are ignored.
   */
  readonly onError?: (error: Error) => void;
}

export interface PublishOptions {
  /** Defaults to the correlation id of the command or event being handled, else a new `cor_…`. */
  readonly correlationId?: string;
}

export interface RequestOptions {
  /** Default: the bus's `requestTimeoutMs`. */
  readonly timeoutMs?: number;
  /** Defaults to the correlation id of the command or event being handled, else a new `cor_…`. */
  readonly correlationId?: string;
}

export interface SubscriptionStats {
  readonly id: SubscriptionId;
  readonly pattern: string;
  readonly queued: number;
  readonly queueLimit: number;
  readonly dropped: number;
}

export interface BusStats {
  /** Events published since the bus was made. */
  readonly published: number;
  /** Topics that have had at least one event. */
  readonly topics: number;
  readonly handlers: number;
  readonly subscriptions: readonly SubscriptionStats[];
}

export interface Bus {
  /** Pattern: an exact topic, `prefix.*` (one more segment) or `**`. Returns the unsubscribe function. */
  subscribe(
    pattern: string,
    handler: (event: EventEnvelope) => void | Promise<void>,
    options?: SubscribeOptions,
  ): () => void;
  /** Validates synchronously (throws VALIDATION_ERROR), then delivers asynchronously. */
  publish(topic: string, payload: unknown, options?: PublishOptions): EventEnvelope;
  /** One handler per method; a second registration throws ALREADY_EXISTS. Returns the unregister function. */
  handle(
    method: string,
    handler: (payload: unknown, command: CommandEnvelope) => unknown | Promise<unknown>,
  ): () => void;
  /** Resolves with the handler's result; rejects with METHOD_NOT_FOUND, HANDLER_ERROR, TIMEOUT, … */
  request(method: string, payload: unknown, options?: RequestOptions): Promise<unknown>;
  /** Executes a command envelope made elsewhere (another process, a transport) into its response. */
  send(command: unknown): Promise<ResponseEnvelope>;
  /** The correlation id of the command or event being handled in this async context, if any. */
  currentCorrelationId(): string | undefined;
  /** Runs `fn` so that what it publishes and requests carries `correlationId`. */
  withCorrelation<T>(correlationId: string, fn: () => T): T;
  stats(): BusStats;
}
