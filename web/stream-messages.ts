import type { HeldEvent } from './event-history.js';
import type { Connection } from './event-stream.js';

/**
 * The name of the Web Lock whose holder follows `/api/events` for every tab, and of the
 * BroadcastChannel it speaks on. Both are scoped by the browser to the page's origin (scheme,
 * host and port), so two servers on two ports never share them, while every tab of one origin
 * talks to the same server with the same cookie. The suffix is this protocol's version: tabs of
 * an older bundle (a page loaded before a rebuild) keep to themselves.
 */
export const SHARED_STREAM_NAME = 'lanevisor-events-1';

/** What the tabs of one origin tell each other about the one event stream they share. */
export type StreamMessage =
  /** Leader → all: one event of the stream, in order. */
  | { readonly type: 'event'; readonly held: HeldEvent }
  /** Leader → all: the stream's state. */
  | { readonly type: 'connection'; readonly state: Connection }
  /** Leader → all: the stream (re)opened or the server reported a gap; what a tab knows may be stale. */
  | { readonly type: 'resync' }
  /** A tab that joins → the leader: asks for the state and the newest events. */
  | { readonly type: 'hello'; readonly from: string }
  /** Leader → the tab that said hello. */
  | {
      readonly type: 'welcome';
      readonly to: string;
      readonly state: Connection;
      readonly events: readonly HeldEvent[];
    }
  /** A tab that just took the lock → all: a tab still waiting for its welcome says hello again. */
  | { readonly type: 'leader' };
