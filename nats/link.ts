import type { NatsConnection } from 'nats';
import { errorMessage, LanevisorError, parseOrThrow, type Runtime } from '../index.js';
import { CommandResponder } from './command-responder.js';
import { openNatsConnection } from './connection.js';
import { type BridgeStats, EventBridge } from './event-bridge.js';
import { type ConnectNatsOptions, connectNatsOptionsSchema, resolveBridgeOptions } from './options.js';
import { Presence } from './presence.js';
import { NatsSessions } from './session-server.js';
import { ensureStream } from './stream.js';

/** How long `close()` waits for buffered events to reach NATS before it lets them go. */
export const LINK_CLOSE_FLUSH_MS = 2_000;

/** One runtime joined to NATS: its events out, the control API in, its presence announced. */
export interface NatsLink {
  readonly runtimeId: string;
  readonly prefix: string;
  readonly streamName: string;
  stats(): BridgeStats;
  /** Resolves once every buffered event is stored (or after `timeoutMs`, default 2 s). */
  flush(timeoutMs?: number): Promise<void>;
  /**
   * Flushes, says goodbye, ends remote sessions and closes the connection; the runtime goes on
   * locally. Done by itself once the runtime has shut down (`runtime.stopped`).
   */
  close(): Promise<void>;
}

/**
 * Joins the runtime to NATS: every event of its bus to JetStream as `<prefix>.<runtimeId>.<topic>`,
 * the control API's operations answered on `<prefix>.<runtimeId>.api.<method>`, PTY sessions on
 * `<prefix>.<runtimeId>._session.*`, and announcements for `discoverRuntimes`. The first
 * connection must succeed (UNAVAILABLE otherwise); after it, NATS may come and go: the runtime
 * keeps working, events wait in a bounded buffer and the link reconnects by itself.
 */
export async function connectNats(rt: Runtime, options: ConnectNatsOptions): Promise<NatsLink> {
  const parsed = parseOrThrow(connectNatsOptionsSchema, options, 'options', 'INVALID_ARGUMENT');
  const resolved = resolveBridgeOptions(parsed);
  const nc = await openNatsConnection(parsed, `lanevisor ${rt.id}`);
  let jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>;
  try {
    jsm = await nc.jetstreamManager();
    await ensureStream(jsm, resolved.streamName, resolved.prefix, resolved);
  } catch (error) {
    await nc.close();
    if (error instanceof LanevisorError) throw error;
    throw new LanevisorError(
      'UNAVAILABLE',
      `JetStream is not available on that NATS (${errorMessage(error)}); start nats-server with -js`,
      { cause: error },
    );
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await bridge.flush(LINK_CLOSE_FLUSH_MS);
      bridge.close();
      presence.close();
      sessions.close();
      commands.close();
      await nc.drain().catch(() => nc.close());
    })();
    return closing;
  };
  // A runtime that shut down takes its link with it: no announcements of a runtime that is gone.
  const bridge = new EventBridge(rt, nc, nc.jetstream(), jsm, resolved, () => void close());
  const commands = new CommandResponder(rt, nc, resolved.prefix);
  const sessions = new NatsSessions(rt, nc, resolved.prefix);
  const presence = new Presence(rt, nc, resolved.prefix);
  void followStatus(nc, bridge, presence);
  return {
    runtimeId: rt.id,
    prefix: resolved.prefix,
    streamName: resolved.streamName,
    stats: () => bridge.stats(),
    flush: (timeoutMs = LINK_CLOSE_FLUSH_MS) => bridge.flush(timeoutMs),
    close,
  };
}

/** NATS's connection news to the bridge (hold or send) and to the presence (announce again at once). */
async function followStatus(nc: NatsConnection, bridge: EventBridge, presence: Presence): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') bridge.connectionChanged(false);
    else if (status.type === 'reconnect') {
      bridge.connectionChanged(true);
      presence.announce();
    }
  }
}
