import type { NatsConnection, Subscription } from 'nats';
import { PRESENCE_TTL_MS, type RuntimeAnnouncement } from './presence.js';
import { presenceWildcard } from './subjects.js';
import { jsonBodyOf } from './wire.js';

export interface RuntimeWatchOptions {
  /** Called with the live runtimes whenever one appears, leaves or is dropped. */
  readonly onChange: (runtimes: readonly RuntimeAnnouncement[]) => void;
  /** A runtime not heard from for this long is dropped; default PRESENCE_TTL_MS. */
  readonly ttlMs?: number;
}

export interface RuntimeWatch {
  /** The live runtimes now. */
  runtimes(): RuntimeAnnouncement[];
  stop(): void;
}

/**
 * The live runtimes of a prefix, kept by their announcements: one that says it is gone leaves at
 * once, one that vanished (killed, cut off) is dropped `ttlMs` after its last announcement.
 */
export function watchRuntimes(
  nc: NatsConnection,
  prefix: string,
  initial: readonly RuntimeAnnouncement[],
  options: RuntimeWatchOptions,
): RuntimeWatch {
  const ttlMs = options.ttlMs ?? PRESENCE_TTL_MS;
  const live = new Map<string, { announcement: RuntimeAnnouncement; heardAt: number }>();
  for (const announcement of initial) live.set(announcement.runtimeId, { announcement, heardAt: Date.now() });
  const list = () => [...live.values()].map((entry) => entry.announcement);
  const changed = () => options.onChange(list());
  const subscription: Subscription = nc.subscribe(presenceWildcard(prefix), {
    callback: (_error, msg) => {
      let announcement: RuntimeAnnouncement;
      try {
        announcement = jsonBodyOf(msg.data, 'an announcement') as RuntimeAnnouncement;
      } catch {
        return;
      }
      if (typeof announcement?.runtimeId !== 'string') return;
      const known = live.has(announcement.runtimeId);
      if (announcement.gone === true) {
        if (live.delete(announcement.runtimeId)) changed();
        return;
      }
      live.set(announcement.runtimeId, { announcement, heardAt: Date.now() });
      if (!known) changed();
    },
  });
  const sweep = setInterval(
    () => {
      const now = Date.now();
      let dropped = false;
      for (const [id, entry] of live) {
        if (now - entry.heardAt > ttlMs) {
          live.delete(id);
          dropped = true;
        }
      }
      if (dropped) changed();
    },
    Math.max(50, Math.min(ttlMs / 4, 1_000)),
  );
  sweep.unref();
  return {
    runtimes: list,
    stop: () => {
      clearInterval(sweep);
      subscription.unsubscribe();
    },
  };
}
