import { PassThrough } from 'node:stream';
import { LanevisorError } from '../../bus/errors.js';
import { parseOrThrow } from '../../bus/validation.js';
import type { Runtime } from '../runtime/types.js';
import { CONTROL_COMMAND_TIMEOUT_MS, CONTROL_COMMANDS, type CommandContext, type ControlMethod } from './commands.js';
import type { ControlClientMessage, ControlErrorBody, ControlServerMessage } from './control-protocol.js';
import { ControlViews } from './control-views.js';

/**
 * Where a control session's answers go: the control socket, or any transport that carries the
 * control protocol's messages in order (NATS). `backlogged`/`drained` pace a follow by it.
 */
export interface ControlChannel {
  send(message: ControlServerMessage): void;
  backlogged(): boolean;
  drained(): Promise<void>;
  /** Which requests this transport carries; default every method on the bus. */
  allows?(method: string): boolean;
}

/** One client's requests in flight: their exec streams and follows, stopped when it goes away. */
export class ControlSession {
  readonly #streams = new Map<number, { stdin: PassThrough; abort: AbortController }>();
  readonly #follows = new Set<AbortController>();
  readonly #views: ControlViews;

  constructor(
    private readonly rt: Runtime,
    private readonly channel: ControlChannel,
  ) {
    this.#views = new ControlViews(rt, (message) => this.send(message), errorOf);
  }

  send(message: ControlServerMessage): void {
    this.channel.send(message);
  }

  receive(message: ControlClientMessage): void {
    switch (message.type) {
      case 'request':
        void this.#request(message.id, message.method, message.payload, message.stream === true);
        return;
      case 'stdin':
        this.#streams.get(message.id)?.stdin.write(message.data);
        return;
      case 'stdin-end':
        this.#streams.get(message.id)?.stdin.end();
        return;
      case 'cancel':
        this.#streams.get(message.id)?.abort.abort();
        return;
      case 'follow':
        void this.#follow(message.id, message.ptyId);
        return;
      case 'hello':
        return;
      default:
        this.#views.receive(message);
    }
  }

  /** The client went away: what it started streaming is stopped, as Ctrl-C in its shell would. */
  end(): void {
    for (const stream of this.#streams.values()) stream.abort.abort();
    for (const follow of this.#follows) follow.abort();
    this.#views.end();
  }

  async #request(id: number, method: string, payload: unknown, stream: boolean): Promise<void> {
    try {
      if (this.channel.allows?.(method) === false) {
        throw new LanevisorError('METHOD_NOT_FOUND', `no method ${method} on this transport`, { details: { method } });
      }
      const result =
        stream && method === 'lane.exec'
          ? await this.#streamedExec(id, payload)
          : await this.rt.bus.request(method, payload ?? {}, { timeoutMs: CONTROL_COMMAND_TIMEOUT_MS });
      this.send({ type: 'reply', id, ok: true, result: result ?? null });
    } catch (error) {
      this.send({ type: 'reply', id, ok: false, error: errorOf(error) });
    }
  }

  async #streamedExec(id: number, payload: unknown): Promise<unknown> {
    const command = CONTROL_COMMANDS['lane.exec' satisfies ControlMethod];
    const input = parseOrThrow(command.input, payload ?? {}, 'lane.exec');
    const stdin = new PassThrough();
    const abort = new AbortController();
    this.#streams.set(id, { stdin, abort });
    const context: CommandContext = {
      stdin,
      signal: abort.signal,
      onStdout: (data) => this.send({ type: 'chunk', id, stream: 'stdout', data }),
      onStderr: (data) => this.send({ type: 'chunk', id, stream: 'stderr', data }),
    };
    try {
      return await command.run(this.rt, input as Parameters<typeof command.run>[1], context);
    } finally {
      this.#streams.delete(id);
      stdin.destroy();
    }
  }

  /** A PTY's output from its oldest retained byte, live, until it exits; paced by the socket. */
  async #follow(id: number, ptyId: string): Promise<void> {
    const pty = this.rt.getPty(ptyId);
    if (pty === undefined) {
      const error = new LanevisorError('NOT_FOUND', `no PTY ${ptyId} in this runtime's lanes`);
      this.send({ type: 'reply', id, ok: false, error: errorOf(error) });
      return;
    }
    const abort = new AbortController();
    this.#follows.add(abort);
    try {
      for await (const data of pty.output()) {
        if (abort.signal.aborted) return;
        this.send({ type: 'output', id, data });
        if (this.channel.backlogged()) await this.channel.drained();
      }
      const exit = await pty.exited;
      this.send({ type: 'exit', id, exitCode: exit.exitCode, signal: exit.signal });
    } finally {
      this.#follows.delete(abort);
    }
  }
}

export function errorOf(error: unknown): ControlErrorBody {
  if (error instanceof LanevisorError) return error.toJSON();
  return { code: 'INTERNAL_ERROR', message: 'the runtime failed to answer; see its log' };
}
