import type { CorrelationScope } from './correlation.js';
import type { CommandEnvelope, ResponseEnvelope, ResponseError } from './envelopes.js';
import { isLanevisorError, LanevisorError } from './errors.js';
import { createSequentialIdFactory } from './ids.js';
import { checkJsonValue } from './json-value.js';
import { sanitizeErrorMessage } from './sanitize.js';

export type CommandHandler = (payload: unknown, command: CommandEnvelope) => unknown;

interface Registration {
  readonly handler: CommandHandler;
}

export interface RequestLimits {
  readonly maxPayloadBytes: number;
  readonly defaultTimeoutMs: number;
}

/**
 * One handler per method, and the execution of a command into exactly one response: the handler's
 * result, its error, METHOD_NOT_FOUND or TIMEOUT. A response is never thrown; the caller decides.
 */
export class RequestRouter {
  readonly #handlers = new Map<string, Registration>();
  readonly #nextResponseId = createSequentialIdFactory('response');

  constructor(
    private readonly correlation: CorrelationScope,
    private readonly limits: RequestLimits,
  ) {}

  get size(): number {
    return this.#handlers.size;
  }

  register(method: string, handler: CommandHandler): () => void {
    if (this.#handlers.has(method)) {
      throw new LanevisorError(
        'ALREADY_EXISTS',
        `a handler for "${method}" is already registered; call its unregister function first`,
        {
          details: { method },
        },
      );
    }
    const registration: Registration = { handler };
    this.#handlers.set(method, registration);
    return () => {
      if (this.#handlers.get(method) === registration) this.#handlers.delete(method);
    };
  }

  execute(command: CommandEnvelope): Promise<ResponseEnvelope> {
    const registration = this.#handlers.get(command.method);
    if (registration === undefined) {
      return Promise.resolve(
        this.#failure(command, {
          code: 'METHOD_NOT_FOUND',
          message: `no handler is registered for "${command.method}"; register one with bus.handle()`,
        }),
      );
    }
    const timeoutMs = command.timeoutMs ?? this.limits.defaultTimeoutMs;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (response: ResponseEnvelope): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(response);
      };
      const timer = setTimeout(() => {
        settle(
          this.#failure(command, {
            code: 'TIMEOUT',
            message: `"${command.method}" did not answer within ${timeoutMs} ms`,
          }),
        );
      }, timeoutMs);
      try {
        const outcome = this.correlation.run(command.correlationId, registration.handler, command.payload, command);
        Promise.resolve(outcome).then(
          (result) => settle(this.#success(command, result)),
          (error: unknown) => settle(this.#failure(command, describeFailure(command.method, error))),
        );
      } catch (error) {
        settle(this.#failure(command, describeFailure(command.method, error)));
      }
    });
  }

  #success(command: CommandEnvelope, result: unknown): ResponseEnvelope {
    // A handler that returns nothing answers null: JSON has no undefined.
    const value = result === undefined ? null : result;
    const check = checkJsonValue(value, 'result', this.limits.maxPayloadBytes);
    if (!check.ok) {
      return this.#failure(command, {
        code: 'VALIDATION_ERROR',
        message: `the handler for "${command.method}" returned an invalid result: ${check.message}`,
      });
    }
    return { ...this.#responseBase(command), ok: true, result: value };
  }

  #responseBase(command: CommandEnvelope) {
    return {
      id: this.#nextResponseId(),
      type: 'response',
      commandId: command.id,
      timestamp: Date.now(),
      correlationId: command.correlationId,
    } as const;
  }

  #failure(command: CommandEnvelope, error: ResponseError): ResponseEnvelope {
    return { ...this.#responseBase(command), ok: false, error };
  }
}

/**
 * A LanevisorError thrown by a handler is a deliberate answer and keeps its code and message;
 * anything else is a HANDLER_ERROR whose message has no stack trace and no file path.
 */
function describeFailure(method: string, error: unknown): ResponseError {
  if (isLanevisorError(error)) return error.toJSON();
  return { code: 'HANDLER_ERROR', message: `the handler for "${method}" failed: ${sanitizeErrorMessage(error)}` };
}
