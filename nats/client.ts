import { createInbox, headers, type NatsConnection, RequestStrategy } from 'nats';
import {
  type ControlMethod,
  type ControlServerMessage,
  controlConnectionOver,
  controlErrorFrom,
  LanevisorError,
  parseOrThrow,
  type RuntimeConnection,
} from '../index.js';
import { CORRELATION_HEADER, type RemoteReply } from './command-responder.js';
import { openNatsConnection } from './connection.js';
import { type EventReplay, type ReplayOptions, replayEvents } from './event-replay.js';
import { type NatsServerOptions, natsServerOptionsSchema } from './options.js';
import type { RuntimeAnnouncement } from './presence.js';
import { type RuntimeWatch, type RuntimeWatchOptions, watchRuntimes } from './runtime-directory.js';
import { SESSION_IDLE_MS, SESSION_PING_MS } from './session-server.js';
import { commandSubject, DEFAULT_PREFIX, discoverSubject, sessionSubject } from './subjects.js';
import { encodeJson, jsonBodyOf, natsCodeOf } from './wire.js';

/** How long discovery waits for runtimes to answer. */
export const DISCOVER_WAIT_MS = 500;
/** A remote command's wait unless the caller sets one (a lane's setup can take minutes). */
export const REMOTE_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;
/** A session the runtime has not welcomed by then is not there. */
export const SESSION_HELLO_TIMEOUT_MS = 5_000;

/** A person's or a program's way to the runtimes on one NATS: commands, discovery, sessions, events. */
export interface NatsClient {
  readonly prefix: string;
  /** The control API's `method` on that runtime; rejects with the runtime's own error code. */
  request(
    runtimeId: string,
    method: ControlMethod,
    payload?: unknown,
    options?: { readonly timeoutMs?: number; readonly correlationId?: string },
  ): Promise<unknown>;
  /** The runtimes that answer within DISCOVER_WAIT_MS, by host then start. */
  discover(options?: { readonly waitMs?: number }): Promise<RuntimeAnnouncement[]>;
  /** The live runtimes from now on: discovered first, then kept by their announcements. */
  watchRuntimes(options: RuntimeWatchOptions): Promise<RuntimeWatch>;
  /** A session with one runtime: what `lanevisor attach` and streamed execs use, as over the control socket. */
  connectRuntime(runtimeId: string): Promise<RuntimeConnection>;
  /** The events in the stream, from a sequence or the start, then live. */
  events(options: ReplayOptions): Promise<EventReplay>;
  close(): Promise<void>;
}

export async function connectNatsClient(options: NatsServerOptions): Promise<NatsClient> {
  const parsed = parseOrThrow(natsServerOptionsSchema, options, 'options', 'INVALID_ARGUMENT');
  const prefix = parsed.prefix ?? DEFAULT_PREFIX;
  const nc = await openNatsConnection(parsed, 'lanevisor client');
  // nats.js holds a request made while it reconnects; a person's action should fail at once instead.
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      else if (status.type === 'reconnect') connected = true;
    }
  })();
  return {
    prefix,
    request: (runtimeId, method, payload = {}, requestOptions = {}) => {
      if (!connected) {
        return Promise.reject(
          new LanevisorError('UNAVAILABLE', `NATS is away (reconnecting); ${method} was not sent to ${runtimeId}`, {
            details: { runtimeId },
          }),
        );
      }
      return remoteRequest(nc, prefix, runtimeId, method, payload, requestOptions);
    },
    discover: (discoverOptions = {}) => discover(nc, prefix, discoverOptions.waitMs ?? DISCOVER_WAIT_MS),
    watchRuntimes: async (watchOptions) => {
      const watch = watchRuntimes(nc, prefix, watchOptions);
      try {
        // The server holds the subscription before discovery asks: no goodbye falls in between.
        await nc.flush();
        watch.seed(await discover(nc, prefix, DISCOVER_WAIT_MS));
      } catch (error) {
        watch.stop();
        throw error;
      }
      return watch;
    },
    connectRuntime: (runtimeId) => sessionWith(nc, prefix, runtimeId),
    events: (replayOptions) => replayEvents(nc, prefix, replayOptions),
    close: () => nc.drain().catch(() => nc.close()),
  };
}

/** `discover()` of a client made for it and closed after. */
export async function discoverRuntimes(
  options: NatsServerOptions & { readonly waitMs?: number },
): Promise<RuntimeAnnouncement[]> {
  const { waitMs, ...serverOptions } = options;
  const client = await connectNatsClient(serverOptions);
  try {
    return await client.discover(waitMs === undefined ? {} : { waitMs });
  } finally {
    await client.close();
  }
}

async function remoteRequest(
  nc: NatsConnection,
  prefix: string,
  runtimeId: string,
  method: ControlMethod,
  payload: unknown,
  options: { readonly timeoutMs?: number; readonly correlationId?: string },
): Promise<unknown> {
  const requestHeaders = headers();
  if (options.correlationId !== undefined) requestHeaders.set(CORRELATION_HEADER, options.correlationId);
  let body: unknown;
  try {
    const reply = await nc.request(commandSubject(prefix, runtimeId, method), encodeJson(payload), {
      timeout: options.timeoutMs ?? REMOTE_REQUEST_TIMEOUT_MS,
      headers: requestHeaders,
    });
    body = jsonBodyOf(reply.data, `the answer of ${runtimeId}`);
  } catch (error) {
    throw requestError(error, runtimeId, method);
  }
  const reply = body as RemoteReply;
  if (reply.ok) return reply.result;
  throw controlErrorFrom(reply.error);
}

function requestError(error: unknown, runtimeId: string, method: string): LanevisorError {
  if (error instanceof LanevisorError) return error;
  const code = natsCodeOf(error);
  if (code === '503') {
    return new LanevisorError(
      'UNAVAILABLE',
      `no runtime ${runtimeId} answers on NATS; lanevisor status --nats lists them`,
      {
        details: { runtimeId },
      },
    );
  }
  if (code === 'PERMISSIONS_VIOLATION') {
    return new LanevisorError('FORBIDDEN', `this NATS user may not send ${method} to ${runtimeId} (NATS permissions)`, {
      details: { runtimeId },
    });
  }
  if (code === 'TIMEOUT') {
    return new LanevisorError('TIMEOUT', `runtime ${runtimeId} did not answer ${method} in time`, {
      details: { runtimeId },
    });
  }
  return new LanevisorError('UNAVAILABLE', `NATS failed to carry ${method} to ${runtimeId}: ${String(error)}`, {
    cause: error,
  });
}

async function discover(nc: NatsConnection, prefix: string, waitMs: number): Promise<RuntimeAnnouncement[]> {
  const found = new Map<string, RuntimeAnnouncement>();
  try {
    const replies = await nc.requestMany(discoverSubject(prefix), new Uint8Array(), {
      strategy: RequestStrategy.Timer,
      maxWait: waitMs,
    });
    for await (const reply of replies) {
      const announcement = jsonBodyOf(reply.data, 'an announcement') as RuntimeAnnouncement;
      if (typeof announcement?.runtimeId === 'string') found.set(announcement.runtimeId, announcement);
    }
  } catch (error) {
    // No runtime at all answers "no responders": an empty list, not a failure.
    if (natsCodeOf(error) !== '503') throw requestError(error, 'discovery', 'discover');
  }
  return [...found.values()].sort((a, b) => a.host.localeCompare(b.host) || a.startedAt - b.startedAt);
}

/** The control protocol over NATS (see session-server.ts): hello with our inbox, then by id. */
async function sessionWith(nc: NatsConnection, prefix: string, runtimeId: string): Promise<RuntimeConnection> {
  // A runtime that is not there fails at once (no responders), not after the hello's wait.
  await remoteRequest(nc, prefix, runtimeId, 'runtime.info', {}, { timeoutMs: SESSION_HELLO_TIMEOUT_MS });
  const inbox = createInbox();
  const subject = sessionSubject(prefix, runtimeId, inbox.slice(inbox.lastIndexOf('.') + 1));
  const subscription = nc.subscribe(inbox);
  let lastHeardAt = Date.now();
  let ping: NodeJS.Timeout | undefined;
  let closed = false;
  let welcomed = false;
  const stop = () => {
    closed = true;
    clearInterval(ping);
    subscription.unsubscribe();
  };
  const connection = await controlConnectionOver(
    {
      send: (message) => nc.publish(subject, encodeJson(message), { reply: inbox }),
      close: () => {
        if (!closed) nc.publish(subject, encodeJson({ type: 'bye' }));
        stop();
      },
      listen: (onMessage, onClose) => {
        const gone = () => {
          if (closed) return;
          stop();
          onClose();
        };
        void (async () => {
          for await (const msg of subscription) {
            lastHeardAt = Date.now();
            const message = jsonBodyOf(msg.data, 'a session message') as
              | ControlServerMessage
              | { type: 'pong' | 'refused' };
            if (message.type === 'welcome') welcomed = true;
            if (message.type === 'refused') gone();
            else if (message.type !== 'pong') onMessage(message as ControlServerMessage);
          }
        })().catch(gone);
        ping = setInterval(() => {
          if (Date.now() - lastHeardAt > SESSION_IDLE_MS) gone();
          else nc.publish(subject, encodeJson({ type: 'ping' }));
        }, SESSION_PING_MS);
        ping.unref();
        // No welcome in time: the runtime is not there (onClose before a welcome answers null).
        setTimeout(() => {
          if (!welcomed) gone();
        }, SESSION_HELLO_TIMEOUT_MS).unref();
      },
    },
    '',
  );
  if (connection === null) {
    throw new LanevisorError('UNAVAILABLE', `runtime ${runtimeId} did not open a session on NATS`, {
      details: { runtimeId },
    });
  }
  return connection;
}
