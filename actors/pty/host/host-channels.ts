import type { Socket } from 'node:net';
import type { Frame } from './framing.js';
import type { HostServer } from './host-server.js';
import type { HostedPty, PtyListener } from './hosted-pty.js';

/** A connection to the host: a runtime's or a viewer's. */
export interface Link {
  readonly socket: Socket;
  receive(frame: Frame): void;
  closed(): void;
}

/** The PTYs a connection listens to, each under a channel number of its own. */
export abstract class Channels {
  readonly #byChannel = new Map<number, HostedPty>();
  readonly #listeners = new Map<HostedPty, PtyListener>();
  #next = 1;

  constructor(
    protected readonly host: HostServer,
    readonly socket: Socket,
  ) {}

  protected open(pty: HostedPty, listener: (channel: number) => PtyListener): number {
    const channel = this.#next++;
    this.#byChannel.set(channel, pty);
    const made = listener(channel);
    this.#listeners.set(pty, made);
    pty.listeners.add(made);
    return channel;
  }

  protected ptyOf(channel: number): HostedPty | undefined {
    return this.#byChannel.get(channel);
  }

  /** This link's listener of a PTY (to leave it out of what it caused). */
  protected listenerOf(pty: HostedPty): PtyListener | undefined {
    return this.#listeners.get(pty);
  }

  protected drop(channel: number): void {
    const pty = this.#byChannel.get(channel);
    if (pty === undefined) return;
    this.#byChannel.delete(channel);
    const listener = this.#listeners.get(pty);
    if (listener) pty.listeners.delete(listener);
    this.#listeners.delete(pty);
  }

  protected channels(): Array<[number, HostedPty]> {
    return [...this.#byChannel];
  }

  owns(pty: HostedPty): boolean {
    return this.#listeners.has(pty);
  }

  closed(): void {
    for (const [channel] of this.channels()) this.drop(channel);
  }
}

/** Terminal sizes a client may ask for (as `pty.resize` accepts). */
export function validSize(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 10_000;
}
