import { LanevisorError } from '../index.js';

/**
 * The subjects of one prefix. Events: `<prefix>.<runtimeId>.<topic>`; commands:
 * `<prefix>.<runtimeId>.api.<method>`; presence: `<prefix>._presence.<runtimeId>` and discovery
 * requests on `<prefix>._discover` (a runtime id is `rt_…`, so `_presence` and `_discover` are
 * never one).
 */
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,3}$/;
export const DEFAULT_PREFIX = 'lanevisor';

/** The bus topics of the runtime itself: the stream always captures these. */
export const RESERVED_FIRST_SEGMENTS = ['lane', 'pty', 'supervisor', 'runtime', 'bus'] as const;

export function validatePrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      `prefix "${prefix}" is not a NATS subject prefix: one to four tokens of letters, digits, _ and -, separated by dots`,
      { details: { field: 'prefix' } },
    );
  }
  return prefix;
}

/** The default stream of a prefix: `LANEVISOR` for `lanevisor`, `TEAM_A_LANEVISOR` for `team-a.lanevisor`. */
export function streamNameOf(prefix: string): string {
  return prefix.replace(/[.-]/g, '_').toUpperCase();
}

export function eventSubject(prefix: string, runtimeId: string, topic: string): string {
  return `${prefix}.${runtimeId}.${topic}`;
}

export function commandSubject(prefix: string, runtimeId: string, method: string): string {
  return `${prefix}.${runtimeId}.api.${method}`;
}

export function commandWildcard(prefix: string, runtimeId: string): string {
  return `${prefix}.${runtimeId}.api.>`;
}

export function presenceSubject(prefix: string, runtimeId: string): string {
  return `${prefix}._presence.${runtimeId}`;
}

export function presenceWildcard(prefix: string): string {
  return `${prefix}._presence.*`;
}

export function discoverSubject(prefix: string): string {
  return `${prefix}._discover`;
}

/** What the stream binds for the events whose topic begins with `segment` (every runtime). */
export function streamSubjectsOf(prefix: string, segment: string): string[] {
  return [`${prefix}.*.${segment}`, `${prefix}.*.${segment}.>`];
}

export function defaultStreamSubjects(prefix: string): string[] {
  return RESERVED_FIRST_SEGMENTS.flatMap((segment) => streamSubjectsOf(prefix, segment));
}

/**
 * Whether a topic may be bridged: `api` would land on the command subjects, and a segment that
 * looks like a runtime id or starts with `_` on presence ones; such topics stay local.
 */
export function isBridgeableSegment(segment: string): boolean {
  return segment !== 'api' && !segment.startsWith('_') && !/^rt_/.test(segment);
}

export function firstSegment(topic: string): string {
  const dot = topic.indexOf('.');
  return dot === -1 ? topic : topic.slice(0, dot);
}

/** A client's control session with one runtime (views, streamed execs): `<prefix>.<runtimeId>._session.<sessionId>`. */
export function sessionSubject(prefix: string, runtimeId: string, sessionId: string): string {
  return `${prefix}.${runtimeId}._session.${sessionId}`;
}

export function sessionWildcard(prefix: string, runtimeId: string): string {
  return `${prefix}.${runtimeId}._session.*`;
}
