/**
 * Every bound of the HTTP server, in one place: each one caps what a client can make this process
 * hold, so that no client (slow, hostile or buggy) can grow its memory or delay the bus.
 */

/** Largest request body; a bigger one is 413. Commands' payloads are small JSON. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Largest WebSocket frame a client may send (input is typed or pasted text). */
export const MAX_WS_MESSAGE_BYTES = 1024 * 1024;
/** Concurrent SSE clients; past it `GET /api/events` is 503 CAPACITY. */
export const MAX_SSE_CLIENTS = 64;
/** Concurrent terminal streams; past it an upgrade is 503 CAPACITY. */
export const MAX_WS_CLIENTS = 64;
/** Events held for `Last-Event-ID` resume (the contract asks for at least 10,000). */
export const SSE_BACKLOG_EVENTS = 10_000;
/** And at most this many chars of them: a run of 1 MiB payloads must not make the backlog hold gigabytes. */
export const SSE_BACKLOG_MAX_CHARS = 64 * 1024 * 1024;
/** An SSE client whose socket holds more unsent bytes than this is cut off; it may resume. */
export const SSE_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/**
 * A server's first event id is its start time in ms times this: room for a million events a
 * second before the ids of a server could reach those of the next one started after it.
 */
export const SSE_IDS_PER_MS = 1000;
/** A comment line this often keeps proxies and idle timers from closing an SSE stream. */
export const SSE_HEARTBEAT_MS = 15_000;
/** A WebSocket whose socket holds more unsent bytes than this is cut off (it is not reading at all). */
export const WS_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/**
 * The server's own bus subscription: the bus closes a subscription whose queue overflows with an
 * event that may not be dropped, and the server must never lose it, so the queue is large and
 * the handler only appends to a ring.
 */
export const BUS_QUEUE_LIMIT = 1_000_000;
export const DEFAULT_HOST = '127.0.0.1';
/** Bytes of randomness in a server's token (hex-encoded: twice as many characters). */
export const TOKEN_BYTES = 32;
