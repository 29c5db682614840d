import type { CorrelationScope } from './correlation.js';
import type { EventEnvelope } from './envelopes.js';
import { errorMessage, LanevisorError } from './errors.js';
import type { LifecyclePayload, LifecycleTopic } from './lifecycle.js';
import type { EventHandler, Subscription, SubscriptionHost } from './subscription.js';

type PublishLifecycle = <T extends LifecycleTopic>(
  topic: T,
  payload: LifecyclePayload<T>,
  options: { correlationId: string },
) => unknown;

/**
 * How subscriptions are run and how their trouble is made visible: a failing handler, a
 * subscriber disconnected for falling behind, high-volume events dropped for a lagging one.
 */
export class SubscriberDiagnostics implements SubscriptionHost {
  constructor(
    private readonly correlation: CorrelationScope,
    private readonly publishLifecycle: PublishLifecycle,
    /** Stops routing events to a subscription (it is removed from the index). */
    private readonly detach: (subscription: Subscription) => void,
  ) {}

  deliver(handler: EventHandler, event: EventEnvelope): void | Promise<void> {
    return this.correlation.run(event.correlationId, handler, event);
  }

  handlerFailed(subscription: Subscription, event: EventEnvelope, error: unknown): void {
    const reason = errorMessage(error);
    const failure = new LanevisorError(
      'HANDLER_ERROR',
      `subscriber ${subscription.id} (${subscription.pattern}) failed on ${event.topic}: ${reason}`,
      { cause: error },
    );
    subscription.notifyError(failure);
    // A subscriber that fails on the failure reports themselves would report forever.
    if (event.topic === 'bus.subscriber_error') return;
    this.#reportSubscriberError(subscription, event, 'HANDLER_ERROR', failure.message);
  }

  overflowed(subscription: Subscription, event: EventEnvelope): void {
    const message = `subscriber ${subscription.id} (${subscription.pattern}) fell ${subscription.queueLimit} events behind and was disconnected at ${event.topic} #${event.sequence}; keep handlers fast or raise queueLimit`;
    this.detach(subscription);
    if (subscription.episodeDropped > 0) subscription.endDropEpisode();
    subscription.disconnect(
      new LanevisorError('BACKPRESSURE', message, { details: { subscriptionId: subscription.id } }),
    );
    this.#reportSubscriberError(subscription, event, 'BACKPRESSURE', message);
  }

  dropsChanged(subscription: Subscription, phase: 'started' | 'ended'): void {
    this.publishLifecycle(
      'bus.dropped',
      {
        subscriptionId: subscription.id,
        pattern: subscription.pattern,
        phase,
        dropped: subscription.episodeDropped,
        totalDropped: subscription.totalDropped,
        lastTopic: subscription.lastDroppedTopic,
      },
      { correlationId: subscription.id },
    );
  }

  #reportSubscriberError(
    subscription: Subscription,
    event: EventEnvelope,
    code: 'HANDLER_ERROR' | 'BACKPRESSURE',
    message: string,
  ): void {
    this.publishLifecycle(
      'bus.subscriber_error',
      {
        subscriptionId: subscription.id,
        pattern: subscription.pattern,
        topic: event.topic,
        eventId: event.id,
        code,
        message,
      },
      { correlationId: event.correlationId },
    );
  }
}
