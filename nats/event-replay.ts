import { DeliverPolicy, type NatsConnection } from 'nats';
import { type EventEnvelope, errorMessage, LanevisorError } from '../index.js';
import { streamNameOf } from './subjects.js';

export interface ReplayOptions {
  /** One runtime's events; default every runtime's. */
  readonly runtimeId?: string;
  /** Start at this stream sequence; default the oldest stored event. */
  readonly fromSequence?: number;
  /** `new`: only what is published from now on. */
  readonly deliver?: 'all' | 'new';
  /** Default the prefix's stream (`LANEVISOR` for `lanevisor`). */
  readonly streamName?: string;
  /** Each event in stream order, with its stream sequence (where to resume from next time). */
  readonly onEvent: (
    event: EventEnvelope,
    position: { readonly streamSequence: number; readonly subject: string },
  ) => void;
}

export interface EventReplay {
  stop(): Promise<void>;
}

/**
 * A late consumer's view of the events: JetStream's ordered consumer over the stream, from a
 * sequence or the start, then live (an ordered consumer recreates itself after a reconnect and
 * resumes after the last sequence it delivered, so nothing is seen twice or skipped).
 */
export async function replayEvents(nc: NatsConnection, prefix: string, options: ReplayOptions): Promise<EventReplay> {
  const streamName = options.streamName ?? streamNameOf(prefix);
  // nats-server 2.9 refuses `<prefix>.<runtimeId>.>` as a filter (not a subset of the stream's
  // `<prefix>.*.<segment>` subjects), so one runtime's events are picked here, by subject.
  const filter = `${prefix}.*.>`;
  const only = options.runtimeId === undefined ? undefined : `${prefix}.${options.runtimeId}.`;
  let messages: Awaited<
    ReturnType<Awaited<ReturnType<ReturnType<NatsConnection['jetstream']>['consumers']['get']>>['consume']>
  >;
  try {
    // nats.js's ordered consumer sets its own start sequence when it recreates itself, which the
    // server refuses next to "deliver all" or "new": every start is given as a sequence instead.
    const fromSequence =
      options.fromSequence ??
      (options.deliver === 'new'
        ? (await (await nc.jetstreamManager()).streams.info(streamName)).state.last_seq + 1
        : 1);
    const consumer = await nc.jetstream().consumers.get(streamName, {
      filterSubjects: filter,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: fromSequence,
    });
    messages = await consumer.consume();
  } catch (error) {
    throw new LanevisorError('UNAVAILABLE', `the stream ${streamName} cannot be read: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const done = (async () => {
    for await (const message of messages) {
      if (only !== undefined && !message.subject.startsWith(only)) continue;
      let event: EventEnvelope;
      try {
        event = message.json<EventEnvelope>();
      } catch {
        continue;
      }
      options.onEvent(event, { streamSequence: message.seq, subject: message.subject });
    }
  })();
  return {
    stop: async () => {
      await messages.close();
      await done.catch(() => undefined);
    },
  };
}
