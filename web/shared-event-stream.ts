import { TIMELINE_MAX_EVENTS } from './components/timeline.js';
import { EventHistory, type HeldEvent } from './event-history.js';
import { type Connection, EventStream, type StreamHandlers } from './event-stream.js';
import { SHARED_STREAM_NAME, type StreamMessage } from './stream-messages.js';

type Role = 'waiting' | 'follower' | 'leader';

/**
 * `/api/events` shared by every tab of the origin, so that the tabs together hold one of the
 * browser's six HTTP/1.1 connections per host instead of one each. The tab holding the Web Lock
 * (the leader) follows the stream (an `EventStream`: Last-Event-ID resume, reconnects,
 * `unauthorized`, resync on open and gap) and says each event, its state and each resync on a
 * BroadcastChannel; the other tabs (followers) take those. A joining tab gets the leader's state
 * and newest events in a welcome, so its timeline has a past. When the leader's tab closes, the
 * browser hands the lock to a waiting tab, which opens the stream after the last event it saw;
 * its opening is a resync for every tab, and events seen twice at the handover are dropped by id.
 */
export class SharedEventStream {
  readonly #tab = Math.random().toString(36).slice(2);
  readonly #channel = new BroadcastChannel(SHARED_STREAM_NAME);
  readonly #abort = new AbortController();
  readonly #history = new EventHistory(TIMELINE_MAX_EVENTS);
  #role: Role = 'waiting';
  /** Events that came before the welcome: the welcome holds them too, or they follow it. */
  #early: HeldEvent[] = [];
  #state: Connection = 'connecting';
  #stream: EventStream | undefined;
  #release: (() => void) | undefined;
  #closed = false;

  constructor(private readonly handlers: StreamHandlers) {}

  open(): void {
    this.handlers.connection('connecting');
    this.#channel.onmessage = (message: MessageEvent<StreamMessage>) => this.#receive(message.data);
    this.#post({ type: 'hello', from: this.#tab });
    // Rejected only when close() aborts the wait for the lock.
    navigator.locks.request(SHARED_STREAM_NAME, { signal: this.#abort.signal }, () => this.#lead()).catch(() => {});
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
    this.#stream?.close();
    this.#release?.();
    this.#channel.close();
  }

  /** Holds the lock (and so the stream) until close() or the tab's end. */
  #lead(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#role = 'leader';
    // Never welcomed: nothing was shown, so the stream from "0" brings the early events in order.
    this.#early = [];
    this.#post({ type: 'leader' });
    this.#stream = new EventStream(
      {
        event: (event, id) => {
          const held = { id, event };
          if (!this.#history.add(held)) return;
          this.handlers.event(event, id);
          this.#post({ type: 'event', held });
        },
        connection: (state) => {
          this.#state = state;
          this.handlers.connection(state);
          this.#post({ type: 'connection', state });
        },
        resync: () => {
          this.handlers.resync();
          this.#post({ type: 'resync' });
        },
      },
      this.#history.lastId,
    );
    this.#stream.open();
    return new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  #receive(message: StreamMessage): void {
    if (this.#role === 'leader') {
      // Anything else is an earlier leader's, which the stream opened after its last event covers.
      if (message.type === 'hello') this.#welcome(message.from);
      return;
    }
    switch (message.type) {
      case 'event':
        if (this.#role === 'waiting') this.#early.push(message.held);
        else this.#show(message.held);
        return;
      case 'connection':
        this.handlers.connection(message.state);
        return;
      case 'resync':
        this.handlers.resync();
        return;
      case 'welcome':
        if (this.#role !== 'waiting' || message.to !== this.#tab) return;
        this.#role = 'follower';
        for (const held of [...message.events, ...this.#early]) this.#show(held);
        this.#early = [];
        this.handlers.connection(message.state);
        if (message.state === 'live') this.handlers.resync();
        return;
      case 'leader':
        if (this.#role === 'waiting') this.#post({ type: 'hello', from: this.#tab });
        return;
      case 'hello':
        return;
    }
  }

  #welcome(to: string): void {
    // A new tab may carry a new token's cookie: a leader that gave up on its old one tries again.
    if (this.#state === 'unauthorized') this.#stream?.retry();
    this.#post({ type: 'welcome', to, state: this.#state, events: this.#history.events });
  }

  #show(held: HeldEvent): void {
    if (this.#history.add(held)) this.handlers.event(held.event, held.id);
  }

  #post(message: StreamMessage): void {
    this.#channel.postMessage(message);
  }
}
