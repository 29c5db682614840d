import type { ErrorCode } from './errors.js';
import type { CommandId, EventId, ResponseId } from './ids.js';

/** A published fact. `sequence` is per topic: 1, 2, 3 … with no gap and no inversion. */
export interface EventEnvelope<TPayload = unknown> {
  readonly id: EventId;
  readonly type: 'event';
  readonly topic: string;
  readonly sequence: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly correlationId: string;
  readonly payload: TPayload;
}

/** A request for one handler to act. */
export interface CommandEnvelope<TPayload = unknown> {
  readonly id: CommandId;
  readonly type: 'command';
  readonly method: string;
  readonly timestamp: number;
  readonly correlationId: string;
  readonly payload: TPayload;
  /** How long the caller waits for the response; the bus default when absent. */
  readonly timeoutMs?: number;
}

export interface ResponseError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

interface ResponseBase {
  readonly id: ResponseId;
  readonly type: 'response';
  /** The id of the command this answers. */
  readonly commandId: CommandId;
  readonly timestamp: number;
  /** Always the command's correlation id. */
  readonly correlationId: string;
}

export interface SuccessResponseEnvelope<TResult = unknown> extends ResponseBase {
  readonly ok: true;
  readonly result: TResult;
}

export interface FailureResponseEnvelope extends ResponseBase {
  readonly ok: false;
  readonly error: ResponseError;
}

export type ResponseEnvelope<TResult = unknown> = SuccessResponseEnvelope<TResult> | FailureResponseEnvelope;

export type Envelope = EventEnvelope | CommandEnvelope | ResponseEnvelope;
