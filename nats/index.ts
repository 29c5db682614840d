/**
 * `lanevisor/nats`: runtimes on several machines joined through NATS JetStream. Its own entry, so
 * a program that embeds lanevisor without NATS loads nothing of it (nor the `nats` client).
 */
export {
  connectNatsClient,
  DISCOVER_WAIT_MS,
  discoverRuntimes,
  type NatsClient,
  REMOTE_REQUEST_TIMEOUT_MS,
} from './client.js';
export { CORRELATION_HEADER, type RemoteReply } from './command-responder.js';
export { type BridgeStats, PUBLISH_WINDOW } from './event-bridge.js';
export type { EventReplay, ReplayOptions } from './event-replay.js';
export { connectNats, LINK_CLOSE_FLUSH_MS, type NatsLink } from './link.js';
export {
  type ConnectNatsOptions,
  DEFAULT_MAX_BUFFERED_EVENTS,
  type NatsServerOptions,
  redactedUrl,
} from './options.js';
export { PRESENCE_INTERVAL_MS, PRESENCE_TTL_MS, type RuntimeAnnouncement } from './presence.js';
export type { RuntimeWatch, RuntimeWatchOptions } from './runtime-directory.js';
export { MAX_NATS_SESSIONS, SESSION_IDLE_MS, SESSION_PING_MS } from './session-server.js';
export { DEFAULT_STREAM_MAX_AGE_MS, DEFAULT_STREAM_MAX_BYTES } from './stream.js';
export { DEFAULT_PREFIX, streamNameOf } from './subjects.js';
