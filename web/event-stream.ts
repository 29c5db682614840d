import type { BusEvent } from './types.js';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

/** The first wait before reopening a stream the browser gave up on; doubled up to the cap. */
export const STREAM_RETRY_FIRST_MS = 500;
export const STREAM_RETRY_MAX_MS = 5_000;

export interface StreamHandlers {
  /** A bus event, in order, with its SSE id ('' when the server gave none). */
  event(event: BusEvent, id: string): void;
  /** The stream is (again) open, or the server said events were missed: what is known may be stale. */
  resync(): void;
  connection(state: Connection): void;
}

/**
 * `/api/events` as the page follows it: EventSource resumes by itself with Last-Event-ID after a
 * dropped connection; when the browser gives up on it (a server that answered with an error while
 * restarting) it is reopened here with the last id, so nothing the server still holds is missed.
 */
export class EventStream {
  #source: EventSource | undefined;
  #lastEventId: string;
  #retryMs = STREAM_RETRY_FIRST_MS;
  #retryTimer: number | undefined;
  #closed = false;
  #unauthorized = false;

  /**
   * `lastEventId` "0" (the default): the first stream starts with what the server still holds, so
   * the timeline has a past; a tab taking the stream over from another starts after the last event
   * it saw.
   */
  constructor(
    private readonly handlers: StreamHandlers,
    lastEventId = '0',
  ) {
    this.#lastEventId = lastEventId;
  }

  open(): void {
    this.handlers.connection('connecting');
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    this.#source?.close();
    window.clearTimeout(this.#retryTimer);
  }

  /** After `unauthorized`, tries once more: another tab may have been opened with the new token. */
  retry(): void {
    if (this.#closed || !this.#unauthorized) return;
    this.#unauthorized = false;
    this.handlers.connection('connecting');
    void this.#reopen();
  }

  #connect(): void {
    const source = new EventSource(`/api/events?lastEventId=${encodeURIComponent(this.#lastEventId)}`);
    this.#source = source;
    source.onopen = () => {
      this.#retryMs = STREAM_RETRY_FIRST_MS;
      this.handlers.connection('live');
      this.handlers.resync();
    };
    source.onmessage = (message) => {
      if (message.lastEventId !== '') this.#lastEventId = message.lastEventId;
      this.handlers.event(JSON.parse(message.data) as BusEvent, message.lastEventId);
    };
    source.addEventListener('gap', () => this.handlers.resync());
    source.onerror = () => {
      if (this.#closed) return;
      this.handlers.connection('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return;
      this.#retryTimer = window.setTimeout(() => this.#reopen(), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, STREAM_RETRY_MAX_MS);
    };
  }

  async #reopen(): Promise<void> {
    if (this.#closed) return;
    // A stream refused for its token (a server restarted with a new one) is not retried forever.
    const check = await fetch('/api/runtime', { credentials: 'same-origin' }).catch(() => undefined);
    if (this.#closed) return;
    if (check?.status === 401) {
      this.#unauthorized = true;
      this.handlers.connection('unauthorized');
      return;
    }
    this.#connect();
  }
}
