import { EventStream, type StreamHandlers } from './event-stream.js';
import { SharedEventStream } from './shared-event-stream.js';

/** The page's events, however they reach it. */
export interface EventFeed {
  open(): void;
  close(): void;
}

/**
 * One stream shared by the origin's tabs where the browser has Web Locks and BroadcastChannel;
 * else (an older browser, or a page that is not a secure context: Web Locks need one, and only
 * loopback addresses are one over plain HTTP) a stream of the tab's own.
 */
export function createEventFeed(handlers: StreamHandlers): EventFeed {
  const locks = (navigator as { locks?: Partial<LockManager> }).locks;
  const shared = typeof BroadcastChannel === 'function' && typeof locks?.request === 'function';
  return shared ? new SharedEventStream(handlers) : new EventStream(handlers);
}
