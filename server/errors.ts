import type { FastifyReply } from 'fastify';
import { type ErrorCode, isLanevisorError, LanevisorError } from '../index.js';

/** The contract's status for each error code; any code not here is a 500. */
const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  INVALID_STATE: 409,
  CONFLICT: 409,
  LOCKED: 409,
  CAPACITY: 503,
  UNAVAILABLE: 503,
};

const INTERNAL_MESSAGE =
  'the server failed to carry out this request; try again, or look at the runtime process for why';

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** A LanevisorError the HTTP server answers with a status of its own (401, 403, 413). */
export class HttpError extends LanevisorError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** Status and body for anything thrown: 5xx bodies never carry the original message (stacks, paths). */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) return { status: error.status, body: bodyOf(error.code, error.message) };
  if (isLanevisorError(error)) {
    const status = STATUS_OF_CODE[error.code];
    if (status !== undefined) return { status, body: bodyOf(error.code, error.message) };
  }
  const clientError = fastifyClientError(error);
  if (clientError !== undefined) return clientError;
  return { status: 500, body: bodyOf('INTERNAL_ERROR', INTERNAL_MESSAGE) };
}

export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body } = errorResponse(error);
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

function bodyOf(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Fastify's own 4xx (body too large, not JSON, bad content type) in the contract's shape. */
function fastifyClientError(error: unknown): { status: number; body: ErrorBody } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (status === 413) {
    return { status, body: bodyOf('INVALID_ARGUMENT', 'the request body is too large: send at most 1 MiB of JSON') };
  }
  return {
    status: 400,
    body: bodyOf('VALIDATION_ERROR', 'the request body must be a JSON object sent with Content-Type: application/json'),
  };
}
