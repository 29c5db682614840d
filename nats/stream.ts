import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from 'nats';
import { LanevisorError } from '../index.js';
import { defaultStreamSubjects } from './subjects.js';

/**
 * The stream's limits when lanevisor creates it (a stream that exists keeps the limits its
 * operator gave it; only missing subjects are added):
 *
 * - 24 hours of age: the stream is for watching and replaying a working day (a dashboard or
 *   consumer that starts late, a look back at last night's run); the durable truth of each lane
 *   stays on its machine (records, logs), so older events are not worth a team server's disk.
 * - 1 GiB: lifecycle events are a few hundred bytes, so this holds millions of them; with
 *   `pty.output` bridged it bounds the disk a flooding terminal can take. The oldest go first.
 * - 1 MiB per message: the bus's own payload bound (DEFAULT_MAX_PAYLOAD_BYTES).
 * - a 2 minute duplicate window (NATS's default): Nats-Msg-Id is the envelope id, so a publish
 *   retried after a lost acknowledgement is stored once; past the window the bridge asks the
 *   stream for each topic's last stored event before a retry (event-bridge.ts), so a long outage
 *   duplicates nothing either.
 */
export const DEFAULT_STREAM_MAX_AGE_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_STREAM_MAX_BYTES = 1024 * 1024 * 1024;
export const STREAM_MAX_MSG_BYTES = 1024 * 1024;
export const STREAM_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

export interface StreamLimits {
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  /** Copies on a NATS cluster (1 on a single server). */
  readonly replicas: number;
}

const nanos = (ms: number) => ms * 1_000_000;
const STREAM_NOT_FOUND = 10059;

/** The stream, created with `limits` when missing; `subjects` added when it lacks them. */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  prefix: string,
  limits: StreamLimits,
  subjects: readonly string[] = defaultStreamSubjects(prefix),
): Promise<void> {
  let existing: string[];
  try {
    existing = (await jsm.streams.info(name)).config.subjects ?? [];
  } catch (error) {
    if (apiCodeOf(error) !== STREAM_NOT_FOUND) throw streamError(name, error);
    const config: Partial<StreamConfig> = {
      name,
      subjects: [...subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.maxAgeMs),
      max_bytes: limits.maxBytes,
      max_msg_size: STREAM_MAX_MSG_BYTES,
      duplicate_window: nanos(Math.min(STREAM_DUPLICATE_WINDOW_MS, limits.maxAgeMs)),
      num_replicas: limits.replicas,
    };
    try {
      await jsm.streams.add(config);
      return;
    } catch (addError) {
      // Another runtime made it meanwhile: add our subjects to theirs below.
      existing =
        (await jsm.streams.info(name).catch(() => Promise.reject(streamError(name, addError)))).config.subjects ?? [];
    }
  }
  const missing = subjects.filter((subject) => !existing.includes(subject));
  if (missing.length === 0) return;
  const info = await jsm.streams.info(name);
  try {
    await jsm.streams.update(name, { ...info.config, subjects: [...(info.config.subjects ?? []), ...missing] });
  } catch (error) {
    throw streamError(name, error);
  }
}

function apiCodeOf(error: unknown): number | undefined {
  const api = (error as { api_error?: { err_code?: number } } | null)?.api_error;
  return api?.err_code;
}

function streamError(name: string, error: unknown): LanevisorError {
  const message = error instanceof Error ? error.message : String(error);
  return new LanevisorError('INVALID_STATE', `the JetStream stream ${name} could not be made ready: ${message}`, {
    cause: error,
  });
}
