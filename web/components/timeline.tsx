import { useState } from 'preact/hooks';
import type { BusEvent } from '../types.js';

/** Events shown: the newest this many (the page holds no more, however long it stays open). */
export const TIMELINE_MAX_EVENTS = 500;

/** The bus's events, newest first, filtered by topic prefix and lane. */
export function Timeline({ events }: { events: readonly BusEvent[] }) {
  const [topic, setTopic] = useState('');
  const [lane, setLane] = useState('');
  const shown = events.filter(
    (event) =>
      (topic === '' || event.topic.startsWith(topic)) &&
      (lane === '' || String(event.payload.laneId ?? '').includes(lane)),
  );
  return (
    <section class="timeline" aria-label="Events">
      <h2>Events</h2>
      <div class="inline-form">
        <input
          aria-label="Topic filter"
          placeholder="topic (e.g. lane. or pty.exited)"
          value={topic}
          onInput={(e) => setTopic(e.currentTarget.value)}
        />
        <input
          aria-label="Lane filter"
          placeholder="lane id"
          value={lane}
          onInput={(e) => setLane(e.currentTarget.value)}
        />
      </div>
      <ol class="events">
        {shown.map((event) => (
          <li key={event.id} class="event" data-topic={event.topic}>
            <time dateTime={new Date(event.timestamp).toISOString()}>
              {new Date(event.timestamp).toLocaleTimeString()}
            </time>{' '}
            <strong>{event.topic}</strong> <code>{summaryOf(event.payload)}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}

function summaryOf(payload: Record<string, unknown>): string {
  const text = JSON.stringify(payload);
  return text.length > 240 ? `${text.slice(0, 239)}…` : text;
}
