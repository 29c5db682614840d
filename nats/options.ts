import { hostname } from 'node:os';
import { type ConnectionOptions, nkeyAuthenticator } from 'nats';
import { z } from 'zod';
import { DEFAULT_STREAM_MAX_AGE_MS, DEFAULT_STREAM_MAX_BYTES } from './stream.js';
import { DEFAULT_PREFIX, PREFIX_PATTERN, streamNameOf } from './subjects.js';

/** What the bridge keeps for NATS while it is away; past it the oldest go, counted as dropped. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 10_000;
/** How long the first connection may take before `connectNats` gives up. */
export const NATS_CONNECT_TIMEOUT_MS = 5_000;
/** Between two reconnection attempts (nats.js adds jitter); it retries for as long as the link is open. */
export const NATS_RECONNECT_WAIT_MS = 500;

const serverUrl = z.string().regex(/^(?:(?:nats|tls):\/\/)?[^\s/]+(?::\d+)?\/?$/, 'a NATS URL: nats://host:port');

/** How to reach NATS and who to be there: NATS's own authentication (user/password, token or an nkey seed). */
export const natsServerOptionsSchema = z.strictObject({
  servers: z.union([serverUrl, z.array(serverUrl).min(1).max(64)]),
  prefix: z
    .string()
    .regex(PREFIX_PATTERN, 'one to four tokens of letters, digits, _ and -, separated by dots')
    .optional(),
  /** The connection's name, as `nats-server` shows it. */
  name: z.string().min(1).max(256).optional(),
  user: z.string().min(1).optional(),
  pass: z.string().optional(),
  token: z.string().min(1).optional(),
  /** An nkey seed (`SU…`): the server knows the public key. */
  nkeySeed: z.string().startsWith('SU').optional(),
  /** TLS files; TLS is also used when a URL is `tls://` or the server requires it. */
  tls: z
    .strictObject({ caFile: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional() })
    .optional(),
});

export const connectNatsOptionsSchema = natsServerOptionsSchema.extend({
  /** Bridge `pty.output` too (high volume; off by default). */
  ptyOutput: z.boolean().optional(),
  maxBufferedEvents: z.number().int().min(1).max(10_000_000).optional(),
  /** The JetStream stream: its name and, when lanevisor creates it, its limits. */
  stream: z
    .strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/)
        .optional(),
      maxAgeMs: z.number().int().min(1_000).optional(),
      maxBytes: z.number().int().min(1_024).optional(),
      /** Copies on a NATS cluster: 3 survives losing one node. Default 1 (a single server has one). */
      replicas: z.number().int().min(1).max(5).optional(),
    })
    .optional(),
});

export type NatsServerOptions = z.infer<typeof natsServerOptionsSchema>;
export type ConnectNatsOptions = z.infer<typeof connectNatsOptionsSchema>;

export interface ResolvedNatsOptions {
  readonly prefix: string;
  readonly streamName: string;
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  readonly replicas: number;
  readonly ptyOutput: boolean;
  readonly maxBufferedEvents: number;
}

export function resolveBridgeOptions(options: ConnectNatsOptions): ResolvedNatsOptions {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  return {
    prefix,
    streamName: options.stream?.name ?? streamNameOf(prefix),
    maxAgeMs: options.stream?.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS,
    maxBytes: options.stream?.maxBytes ?? DEFAULT_STREAM_MAX_BYTES,
    replicas: options.stream?.replicas ?? 1,
    ptyOutput: options.ptyOutput ?? false,
    maxBufferedEvents: options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS,
  };
}

/** The servers as given, one list. */
export function serverListOf(options: NatsServerOptions): string[] {
  return typeof options.servers === 'string' ? [options.servers] : options.servers;
}

/** A URL without the credentials it may carry (`nats://user:pass@host:4222`), for messages. */
export function redactedUrl(url: string): string {
  return url.replace(/^((?:nats|tls):\/\/)?[^@/]*@/, (_match, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/** `user:pass@` or `token@` in a URL, as the `nats` command line takes them. */
function credentialsOf(servers: readonly string[]): Pick<NatsServerOptions, 'user' | 'pass' | 'token'> {
  for (const url of servers) {
    const userinfo = /^(?:(?:nats|tls):\/\/)?([^@/]*)@/.exec(url)?.[1];
    if (userinfo === undefined || userinfo === '') continue;
    const colon = userinfo.indexOf(':');
    const decode = (part: string) => decodeURIComponent(part);
    return colon === -1
      ? { token: decode(userinfo) }
      : { user: decode(userinfo.slice(0, colon)), pass: decode(userinfo.slice(colon + 1)) };
  }
  return {};
}

/** nats.js's options: reconnect for as long as the connection is open, NATS's own authentication. */
export function connectionOptionsOf(given: NatsServerOptions, defaultName: string): ConnectionOptions {
  const servers = serverListOf(given);
  const inUrl = given.user === undefined && given.token === undefined ? credentialsOf(servers) : {};
  const options = { ...given, ...inUrl };
  const wantsTls = options.tls !== undefined || servers.some((url) => url.startsWith('tls://'));
  return {
    servers: servers.map((url) => url.replace(/^(?:nats|tls):\/\//, '').replace(/^[^@/]*@/, '')),
    name: options.name ?? `${defaultName} on ${hostname()}`,
    timeout: NATS_CONNECT_TIMEOUT_MS,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: NATS_RECONNECT_WAIT_MS,
    waitOnFirstConnect: false,
    ...(options.user === undefined ? {} : { user: options.user, pass: options.pass ?? '' }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.nkeySeed === undefined
      ? {}
      : { authenticator: nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed)) }),
    ...(wantsTls ? { tls: tlsOf(options.tls) } : {}),
  };
}

/** Only the files given: nats.js reads an absent key as "not set", an undefined one as a path. */
function tlsOf(tls: NatsServerOptions['tls']): { caFile?: string; certFile?: string; keyFile?: string } {
  return Object.fromEntries(Object.entries(tls ?? {}).filter(([, value]) => value !== undefined));
}
