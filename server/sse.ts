import type { ServerResponse } from 'node:http';
import type { Bus } from '../index.js';
import { HttpError } from './errors.js';
import { EventRing } from './event-ring.js';
import {
  BUS_QUEUE_LIMIT,
  MAX_SSE_CLIENTS,
  SSE_BACKLOG_EVENTS,
  SSE_BACKLOG_MAX_CHARS,
  SSE_HEARTBEAT_MS,
  SSE_IDS_PER_MS,
  SSE_MAX_BUFFERED_BYTES,
} from './limits.js';
import { topicMatcher } from './topic-match.js';

/**
 * PTY output is not sent as SSE: it is the one high-volume topic (a flooding terminal would push
 * every other event out of the backlog in a moment) and the WebSocket stream carries it with
 * flow control. Every other event is.
 */
const EXCLUDED_TOPICS = new Set(['pty.output']);

interface SseClient {
  readonly raw: ServerResponse;
  readonly matches: (topic: string) => boolean;
}

/** The server's one subscription to the bus, its backlog, and every SSE client. */
export class EventHub {
  /**
   * Ids go on from one server to the next (the first is the start time in ms times
   * SSE_IDS_PER_MS): a page that resumes on a restarted server with an id of the
   * old one is told of the gap and gets everything held, instead of a new server's events with
   * ids it believes it has seen.
   */
  readonly #ring = new EventRing(SSE_BACKLOG_EVENTS, SSE_BACKLOG_MAX_CHARS, Date.now() * SSE_IDS_PER_MS);
  readonly #clients = new Set<SseClient>();
  readonly #unsubscribe: () => void;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(bus: Bus) {
    // Minimal work per event (one JSON.stringify, one write per client): the queue never fills.
    this.#unsubscribe = bus.subscribe(
      '**',
      (event) => {
        if (EXCLUDED_TOPICS.has(event.topic)) return;
        const held = this.#ring.push(event.topic, JSON.stringify(event));
        for (const client of this.#clients) if (client.matches(held.topic)) this.#write(client, held.frame);
      },
      { queueLimit: BUS_QUEUE_LIMIT, onError: () => {} },
    );
    this.#heartbeat = setInterval(() => {
      for (const client of this.#clients) this.#write(client, ': ping\n\n');
    }, SSE_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  get clients(): number {
    return this.#clients.size;
  }

  /**
   * Checks a request for a stream (its topic, its id, the capacity) and returns what starts it on
   * the response: what it missed after `lastEventId` first, then live events.
   */
  prepare(options: { topic?: string | undefined; lastEventId?: string | undefined }): (raw: ServerResponse) => void {
    const matches = topicMatcher(options.topic ?? '**');
    const after = parseLastEventId(options.lastEventId);
    if (this.#clients.size >= MAX_SSE_CLIENTS) {
      throw new HttpError(503, 'CAPACITY', `at most ${MAX_SSE_CLIENTS} event streams at once; close one and retry`);
    }
    return (raw) => this.#open(raw, matches, after);
  }

  #open(raw: ServerResponse, matches: (topic: string) => boolean, after: number | undefined): void {
    raw.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    const client: SseClient = { raw, matches };
    raw.on('close', () => this.#clients.delete(client));
    raw.write(': connected\n\n');
    if (after !== undefined && after >= this.#ring.nextId) {
      // An id this server has not given yet (a server before it, with the clock set back): the
      // client is told, and gets everything held, as a new client would, instead of nothing.
      raw.write('event: reset\ndata: {}\n\n');
      for (const held of this.#ring.after(0)) if (matches(held.topic)) raw.write(held.frame);
    } else if (after !== undefined) {
      // Missed: what this server had after `after` and no longer holds (ids before its first
      // are another server's, or "from the start").
      const from = Math.max(after + 1, this.#ring.firstId);
      if (from < this.#ring.oldestId) {
        const gap = { from, to: this.#ring.oldestId - 1 };
        raw.write(`event: gap\ndata: ${JSON.stringify(gap)}\n\n`);
      }
      for (const held of this.#ring.after(after)) if (matches(held.topic)) raw.write(held.frame);
    }
    this.#clients.add(client);
  }

  close(): void {
    this.#unsubscribe();
    clearInterval(this.#heartbeat);
    for (const client of this.#clients) client.raw.end();
    this.#clients.clear();
  }

  /** A client that does not read is cut off, never buffered without bound; it may resume by id. */
  #write(client: SseClient, frame: string): void {
    if (client.raw.writableLength > SSE_MAX_BUFFERED_BYTES) {
      this.#clients.delete(client);
      client.raw.destroy();
      return;
    }
    client.raw.write(frame);
  }
}

function parseLastEventId(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new HttpError(400, 'VALIDATION_ERROR', 'lastEventId: send the numeric id of the last event you received');
  }
  return Number(value);
}
