/**
 * Every failure lanevisor reports to a caller is a `LanevisorError` with a stable `code`, so an
 * orchestrator can branch on the code and show the message to a person.
 */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'METHOD_NOT_FOUND',
  'HANDLER_ERROR',
  'TIMEOUT',
  'BACKPRESSURE',
  'INVALID_STATE',
  'INVALID_ARGUMENT',
  'CAPACITY',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'LOCKED',
  'GIT_ERROR',
  'SPAWN_ERROR',
  /** A merge that cannot be made without a person: the conflicting files are in `details.files`. */
  'CONFLICT',
  /** A lane's setup (its repository config, its setup hooks) failed; the lane is not usable. */
  'SETUP_FAILED',
  /** An HTTP request without the server's token (401). */
  'UNAUTHORIZED',
  /** An HTTP request the server refuses whoever sends it: a foreign Host or Origin (403). */
  'FORBIDDEN',
  /** A service lanevisor needs cannot be reached now (a NATS server, a runtime on another machine); retry later. */
  'UNAVAILABLE',
  /** A defect of lanevisor's own: nothing the caller did; the message says what failed. */
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface LanevisorErrorOptions {
  /** The underlying error, kept for debugging; never serialized into envelopes. */
  readonly cause?: unknown;
  /** Machine-readable facts about the failure (the bad field, the holder of a lock, ...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The plain shape of an error as it travels in a response envelope. */
export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class LanevisorError extends Error {
  override readonly name = 'LanevisorError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: LanevisorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  toJSON(): SerializedError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isLanevisorError(value: unknown, code?: ErrorCode): value is LanevisorError {
  return value instanceof LanevisorError && (code === undefined || value.code === code);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** The message of whatever was thrown: an Error's message, or the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
