import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { InspectionEvent } from 'xstate';
import { errorMessage, LanevisorError } from '../../bus/errors.js';

/**
 * `createRuntime({ trace: 'file.jsonl' })`: every inspection event of the runtime's actors as one
 * JSON line, for reading after the fact (or `tail -f`). Snapshots and events are sanitized: actor
 * references become their system id, binary data its length, functions and process handles are
 * left out, long strings and arrays are cut, and nesting stops at a depth, so a line is bounded.
 */
export const TRACE_MAX_STRING = 512;
export const TRACE_MAX_ARRAY = 32;
export const TRACE_MAX_DEPTH = 6;
export const TRACE_MAX_LINE_BYTES = 16 * 1024;

export interface TraceLine {
  readonly ts: number;
  readonly type: string;
  /** The actor's name: see `actorName`. */
  readonly actor: string;
  readonly rootId: string;
  readonly event?: unknown;
  readonly source?: string;
  readonly status?: string;
  readonly value?: unknown;
  readonly context?: unknown;
}

interface ActorLike {
  readonly sessionId: string;
  readonly systemId?: string | undefined;
  readonly id?: string;
  /** XState's own link to the parent actor (not in its public types, present on every actor). */
  readonly _parent?: ActorLike | undefined;
}

function isActorLike(value: unknown): value is ActorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { send?: unknown }).send === 'function' &&
    typeof (value as { sessionId?: unknown }).sessionId === 'string'
  );
}

/**
 * An actor's system id (`runtime`, `lane:<id>`, `lane:<id>/pty:<id>`, `lane:<id>/exec_<n>`); for an
 * invoked step without one (provisioning, salvage, the task watch, a PTY's process), its parent's
 * name and its own id: `lane:<id>/salvage`.
 */
export function actorName(actor: ActorLike): string {
  if (actor.systemId !== undefined) return actor.systemId;
  if (actor._parent !== undefined && actor.id !== undefined) return `${actorName(actor._parent)}/${actor.id}`;
  return actor.sessionId;
}

/** A plain, bounded copy of `value` fit for JSON. */
export function sanitize(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    return value.length > TRACE_MAX_STRING ? `${value.slice(0, TRACE_MAX_STRING)}…(${value.length} chars)` : value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined; // functions, symbols, undefined
  if (isActorLike(value)) return { actor: actorName(value) };
  if (ArrayBuffer.isView(value)) return { bytes: value.byteLength };
  if (value instanceof Error) return { error: value.message };
  if (depth >= TRACE_MAX_DEPTH) return '…';
  if (Array.isArray(value)) {
    const items = value.slice(0, TRACE_MAX_ARRAY).map((item) => sanitize(item, depth + 1));
    return value.length > TRACE_MAX_ARRAY ? [...items, `…(${value.length} items)`] : items;
  }
  const prototype = Object.getPrototypeOf(value);
  // Class instances (process handles, timers, streams) are not state: their class name stands in.
  if (prototype !== Object.prototype && prototype !== null) return `[${prototype?.constructor?.name ?? 'object'}]`;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const clean = sanitize(item, depth + 1);
    if (clean !== undefined) copy[key] = clean;
  }
  return copy;
}

export function traceLineOf(event: InspectionEvent): TraceLine {
  const base = { ts: Date.now(), type: event.type, actor: actorName(event.actorRef), rootId: event.rootId };
  switch (event.type) {
    case '@xstate.snapshot': {
      const snapshot = event.snapshot as { status?: string; value?: unknown; context?: unknown };
      return {
        ...base,
        event: sanitize(event.event),
        status: snapshot.status ?? 'active',
        ...(snapshot.value === undefined ? {} : { value: sanitize(snapshot.value) }),
        ...(snapshot.context === undefined ? {} : { context: sanitize(snapshot.context) }),
      };
    }
    case '@xstate.event':
      return {
        ...base,
        event: sanitize(event.event),
        ...(event.sourceRef ? { source: actorName(event.sourceRef as ActorLike) } : {}),
      };
    default:
      return base;
  }
}

/** One JSON line, cut to its type and actor when it would pass TRACE_MAX_LINE_BYTES. */
export function serializeTraceLine(line: TraceLine): string {
  const text = JSON.stringify(line);
  if (Buffer.byteLength(text) <= TRACE_MAX_LINE_BYTES) return `${text}\n`;
  const { ts, type, actor, rootId, status } = line;
  return `${JSON.stringify({ ts, type, actor, rootId, status, truncated: true })}\n`;
}

export interface TraceWriter {
  write(event: InspectionEvent): void;
  close(): Promise<void>;
}

/** Opens (appends to) the trace file now, so a path that cannot be written is INVALID_ARGUMENT at once. */
export function createTraceWriter(path: string): TraceWriter {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    throw new LanevisorError('INVALID_ARGUMENT', `cannot write the trace file ${path}: ${errorMessage(error)}`, {
      details: { path },
    });
  }
  const stream: WriteStream = createWriteStream(path, { fd });
  // A disk that fills up later must not take the runtime down; the trace just ends.
  stream.on('error', () => undefined);
  // Written a microtask later, in order: XState announces an actor before it has its system id.
  let pending: { event: InspectionEvent; ts: number }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    stream.write(batch.map(({ event, ts }) => serializeTraceLine({ ...traceLineOf(event), ts })).join(''));
  };
  return {
    write(event) {
      if (pending.length === 0) queueMicrotask(flush);
      pending.push({ event, ts: Date.now() });
    },
    close() {
      if (pending.length > 0) flush();
      return new Promise((resolve) => stream.end(resolve));
    },
  };
}

/** The caller's inspector (a function or an observer) and the trace file, as one inspect function. */
export function combineInspectors(
  inspect: ((event: unknown) => void) | { next(event: unknown): void } | undefined,
  trace: TraceWriter | undefined,
): ((event: InspectionEvent) => void) | undefined {
  if (inspect === undefined && trace === undefined) return undefined;
  const caller =
    typeof inspect === 'function' ? inspect : inspect ? (event: unknown) => inspect.next(event) : undefined;
  return (event) => {
    caller?.(event);
    trace?.write(event);
  };
}
