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

/** A watch being started: its subscription is live, the runtimes that answered discovery come next. */
export interface StartingRuntimeWatch extends RuntimeWatch {
  /**
   * The runtimes that answered discovery. One that said it was gone since the subscription began
   * stays out (its goodbye may come before its answer), one already heard keeps what it said.
   */
  seed(answered: readonly RuntimeAnnouncement[]): void;
}

/**
 * The live runtimes of a prefix, kept by their announcements: one that says it is gone leaves at
 * once, one that vanished (killed, cut off) is dropped `ttlMs` after its last announcement. The
 * subscription comes first and discovery after (`seed`): a runtime that leaves while the watch
 * starts is never kept for a whole TTL.
 */
export function watchRuntimes(nc: NatsConnection, prefix: string, options: RuntimeWatchOptions): StartingRuntimeWatch {
  const ttlMs = options.ttlMs ?? PRESENCE_TTL_MS;
  const live = new Map<string, { announcement: RuntimeAnnouncement; heardAt: number }>();
  /** Runtimes that said they were gone before discovery's answers were in (then nothing is kept). */
  let goneWhileSeeding: Set<string> | undefined = new Set<string>();
  const list = () => [...live.values()].map((entry) => entry.announcement);
  /** Whether onChange has been called: a view told of a change while discovery ran is told of its answers too. */
  let told = false;
  const changed = () => {
    told = true;
    options.onChange(list());
  };
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
        goneWhileSeeding?.add(announcement.runtimeId);
        if (live.delete(announcement.runtimeId)) changed();
        return;
      }
      goneWhileSeeding?.delete(announcement.runtimeId);
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
    seed: (answered) => {
      let added = false;
      for (const announcement of answered) {
        if (goneWhileSeeding?.has(announcement.runtimeId) || live.has(announcement.runtimeId)) continue;
        live.set(announcement.runtimeId, { announcement, heardAt: Date.now() });
        added = true;
      }
      goneWhileSeeding = undefined;
      if (added && told) changed();
    },
    stop: () => {
      clearInterval(sweep);
      subscription.unsubscribe();
    },
  };
}
