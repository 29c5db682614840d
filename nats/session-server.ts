import type { Msg, NatsConnection, Subscription } from 'nats';
import {
  CONTROL_METHODS,
  type ControlServerMessage,
  ControlSession,
  clientMessageSchema,
  controlErrorOf,
  LanevisorError,
  type Runtime,
} from '../index.js';
import { sessionWildcard } from './subjects.js';
import { encodeJson, jsonBodyOf } from './wire.js';

/** A client pings this often; a session that heard nothing for SESSION_IDLE_MS is ended. */
export const SESSION_PING_MS = 5_000;
export const SESSION_IDLE_MS = 4 * SESSION_PING_MS;
/** Sessions of one runtime at once (each holds views and execs). */
export const MAX_NATS_SESSIONS = 256;

interface OpenSession {
  readonly session: ControlSession;
  readonly inbox: string;
  lastHeardAt: number;
}

/**
 * The control protocol over NATS, for what request/reply cannot carry: a PTY's screen, output and
 * acknowledgements (`lanevisor attach`, the dashboard), and execs that stream. A client says hello
 * on `<prefix>.<runtimeId>._session.<id>` with its inbox as the reply subject; everything the
 * runtime sends goes to that inbox, in order. NATS authenticates the client; the runtime's
 * session serves the control API's methods only. A client that stops pinging is gone: its views end.
 */
export class NatsSessions {
  readonly #sessions = new Map<string, OpenSession>();
  readonly #subscription: Subscription;
  readonly #sweep: NodeJS.Timeout;

  constructor(
    private readonly rt: Runtime,
    private readonly nc: NatsConnection,
    prefix: string,
  ) {
    this.#subscription = nc.subscribe(sessionWildcard(prefix, rt.id), {
      callback: (_error, msg) => this.#receive(msg),
    });
    this.#sweep = setInterval(() => this.#endSilent(), SESSION_PING_MS);
    this.#sweep.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#subscription.unsubscribe();
    for (const id of [...this.#sessions.keys()]) this.#end(id);
  }

  #receive(msg: Msg): void {
    const id = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    let body: unknown;
    try {
      body = jsonBodyOf(msg.data, 'a session message');
    } catch {
      return;
    }
    const type = (body as { type?: unknown } | null)?.type;
    const open = this.#sessions.get(id);
    if (open !== undefined) open.lastHeardAt = Date.now();
    if (type === 'ping') {
      if (open !== undefined) this.nc.publish(open.inbox, encodeJson({ type: 'pong' }));
      return;
    }
    if (type === 'bye') {
      this.#end(id);
      return;
    }
    const parsed = clientMessageSchema.safeParse(body);
    if (!parsed.success) return;
    if (parsed.data.type === 'hello') {
      this.#hello(id, msg.reply);
      return;
    }
    open?.session.receive(parsed.data);
  }

  #hello(id: string, inbox: string | undefined): void {
    if (inbox === undefined || inbox === '' || this.#sessions.has(id)) return;
    if (this.#sessions.size >= MAX_NATS_SESSIONS) {
      const error = new LanevisorError('CAPACITY', `at most ${MAX_NATS_SESSIONS} NATS sessions at once on a runtime`);
      this.nc.publish(inbox, encodeJson({ type: 'refused', error: controlErrorOf(error) }));
      return;
    }
    const send = (message: ControlServerMessage) => {
      if (!this.nc.isClosed()) this.nc.publish(inbox, encodeJson(message));
    };
    const session = new ControlSession(this.rt, {
      send,
      // NATS buffers what the connection cannot write yet; a follow is not paced by it.
      backlogged: () => false,
      drained: () => Promise.resolve(),
      allows: (method) => (CONTROL_METHODS as readonly string[]).includes(method),
    });
    this.#sessions.set(id, { session, inbox, lastHeardAt: Date.now() });
    send({ type: 'welcome', runtimeId: this.rt.id, pid: process.pid });
  }

  #end(id: string): void {
    this.#sessions.get(id)?.session.end();
    this.#sessions.delete(id);
  }

  #endSilent(): void {
    const now = Date.now();
    for (const [id, open] of this.#sessions) if (now - open.lastHeardAt > SESSION_IDLE_MS) this.#end(id);
  }
}
