/**
 * Topic and pattern grammar. Topics are lowercase dot-separated segments of `[a-z0-9_]`.
 * Patterns are an exact topic, one trailing single-segment wildcard (`lane.*`), or `**`.
 */
export const TOPIC_PATTERN = /^[a-z0-9_]+(?:\.[a-z0-9_]+)*$/;
/** Long enough for any realistic topic, short enough that a topic is never a payload. */
export const MAX_TOPIC_LENGTH = 200;

/** Prefixes only lanevisor itself may publish on. */
export const RESERVED_TOPIC_PREFIXES = ['lane.', 'pty.', 'supervisor.', 'runtime.', 'bus.'] as const;

/** Topics whose events a lagging subscriber may lose (counted) instead of being disconnected. */
export const HIGH_VOLUME_TOPIC_SUFFIX = '.output';

export const MATCH_ALL_PATTERN = '**';
const SINGLE_SEGMENT_WILDCARD = '.*';

export function isValidTopic(topic: string): boolean {
  return topic.length <= MAX_TOPIC_LENGTH && TOPIC_PATTERN.test(topic);
}

export function isReservedTopic(topic: string): boolean {
  return RESERVED_TOPIC_PREFIXES.some((prefix) => topic.startsWith(prefix));
}

/** The bus's own notices, which get a reserve past a full queue. */
export const DIAGNOSTIC_TOPIC_PREFIX = 'bus.';

/**
 * How a full subscriber queue treats an event: `high-volume` events are dropped and counted,
 * `diagnostic` ones may use a small reserve, `normal` ones disconnect the subscriber.
 */
export type EventClass = 'normal' | 'high-volume' | 'diagnostic';

export function classifyTopic(topic: string): EventClass {
  if (topic.endsWith(HIGH_VOLUME_TOPIC_SUFFIX)) return 'high-volume';
  return topic.startsWith(DIAGNOSTIC_TOPIC_PREFIX) ? 'diagnostic' : 'normal';
}

/** `a.b.c` → `a.b`; a one-segment topic has no parent and matches no `x.*` pattern. */
export function parentOfTopic(topic: string): string | undefined {
  const dot = topic.lastIndexOf('.');
  return dot === -1 ? undefined : topic.slice(0, dot);
}

export type ParsedPattern =
  | { readonly kind: 'all' }
  | { readonly kind: 'exact'; readonly topic: string }
  | { readonly kind: 'children'; readonly parent: string };

/** Returns undefined for anything that is not one of the three pattern forms. */
export function parsePattern(pattern: string): ParsedPattern | undefined {
  if (pattern === MATCH_ALL_PATTERN) return { kind: 'all' };
  if (pattern.endsWith(SINGLE_SEGMENT_WILDCARD)) {
    const parent = pattern.slice(0, -SINGLE_SEGMENT_WILDCARD.length);
    return isValidTopic(parent) ? { kind: 'children', parent } : undefined;
  }
  return isValidTopic(pattern) ? { kind: 'exact', topic: pattern } : undefined;
}
