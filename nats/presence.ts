import { hostname } from 'node:os';
import type { NatsConnection, Subscription } from 'nats';
import type { Runtime } from '../index.js';
import { discoverSubject, presenceSubject } from './subjects.js';
import { encodeJson } from './wire.js';

/** A runtime announces itself this often on `<prefix>._presence.<runtimeId>`. */
export const PRESENCE_INTERVAL_MS = 5_000;
/**
 * A runtime not heard from for this long is taken for gone (three announcements missed). Discovery
 * itself asks every runtime and lists those that answer within DISCOVER_WAIT_MS.
 */
export const PRESENCE_TTL_MS = 3 * PRESENCE_INTERVAL_MS;

/** What a runtime says about itself to the others on the same NATS. */
export interface RuntimeAnnouncement {
  readonly runtimeId: string;
  readonly host: string;
  readonly repo: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly prefix: string;
  readonly lanes: number;
  readonly announcedAt: number;
  /** Set in the last announcement of a runtime that is closing its link. */
  readonly gone?: true;
}

/** Announces the runtime now, every PRESENCE_INTERVAL_MS, and to every discovery request. */
export class Presence {
  readonly #timer: NodeJS.Timeout;
  readonly #discovery: Subscription;

  constructor(
    private readonly rt: Runtime,
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {
    this.#discovery = nc.subscribe(discoverSubject(prefix), {
      callback: (_error, msg) => {
        if (msg.reply) msg.respond(encodeJson(this.#announcement()));
      },
    });
    this.#timer = setInterval(() => this.announce(), PRESENCE_INTERVAL_MS);
    this.#timer.unref();
    this.announce();
  }

  announce(): void {
    if (!this.nc.isClosed())
      this.nc.publish(presenceSubject(this.prefix, this.rt.id), encodeJson(this.#announcement()));
  }

  /** The runtime leaves: one last announcement says so, so a view drops it at once. */
  close(): void {
    clearInterval(this.#timer);
    this.#discovery.unsubscribe();
    if (!this.nc.isClosed()) {
      this.nc.publish(presenceSubject(this.prefix, this.rt.id), encodeJson({ ...this.#announcement(), gone: true }));
    }
  }

  #announcement(): RuntimeAnnouncement {
    return {
      runtimeId: this.rt.id,
      host: hostname(),
      repo: this.rt.repo,
      pid: process.pid,
      startedAt: this.rt.startedAt,
      prefix: this.prefix,
      lanes: this.rt.lanes().length,
      announcedAt: Date.now(),
    };
  }
}
