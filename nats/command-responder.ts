import type { Msg, NatsConnection, Subscription } from 'nats';
import {
  CONTROL_COMMAND_TIMEOUT_MS,
  CONTROL_METHODS,
  type ControlMethod,
  controlErrorOf,
  LanevisorError,
  type Runtime,
} from '../index.js';
import { commandWildcard } from './subjects.js';
import { encodeJson, jsonBodyOf } from './wire.js';

/** The header a caller may set so the command's events carry its correlation id. */
export const CORRELATION_HEADER = 'Lanevisor-Correlation-Id';

/** The answer to a remote command: the control API's result, or its error as the contract names it. */
export type RemoteReply =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { code: string; message: string; details?: unknown } };

/**
 * The control API's operations on `<prefix>.<runtimeId>.api.<method>` (request/reply): the body
 * is the operation's JSON input, validated by the same schemas on the bus; the reply is
 * `{ ok, result }` or `{ ok: false, error: { code, message } }`. Only the control API's methods
 * are reached this way, not other handlers on the runtime's bus.
 */
export class CommandResponder {
  readonly #subscription: Subscription;
  readonly #methodStart: number;

  constructor(
    private readonly rt: Runtime,
    nc: NatsConnection,
    prefix: string,
  ) {
    const wildcard = commandWildcard(prefix, rt.id);
    this.#methodStart = wildcard.length - 1;
    this.#subscription = nc.subscribe(wildcard, { callback: (_error, msg) => void this.#answer(msg) });
  }

  close(): void {
    this.#subscription.unsubscribe();
  }

  async #answer(msg: Msg): Promise<void> {
    if (msg.reply === undefined || msg.reply === '') return;
    let reply: RemoteReply;
    try {
      reply = { ok: true, result: (await this.#run(msg)) ?? null };
    } catch (error) {
      reply = { ok: false, error: controlErrorOf(error) };
    }
    try {
      msg.respond(encodeJson(reply));
    } catch {
      // Too large for NATS: say so instead of leaving the caller to time out.
      const error = new LanevisorError('CAPACITY', 'the answer is larger than NATS carries (max_payload)');
      msg.respond(encodeJson({ ok: false, error: error.toJSON() } satisfies RemoteReply));
    }
  }

  #run(msg: Msg): Promise<unknown> {
    const method = msg.subject.slice(this.#methodStart);
    if (!(CONTROL_METHODS as readonly string[]).includes(method)) {
      throw new LanevisorError(
        'METHOD_NOT_FOUND',
        `no method ${method} on this runtime; the control API has ${CONTROL_METHODS.join(', ')}`,
        { details: { method } },
      );
    }
    const payload = jsonBodyOf(msg.data, `the input of ${method}`);
    const correlationId = msg.headers?.get(CORRELATION_HEADER) || undefined;
    return this.rt.bus.request(method as ControlMethod, payload, {
      timeoutMs: CONTROL_COMMAND_TIMEOUT_MS,
      ...(correlationId === undefined ? {} : { correlationId }),
    });
  }
}
