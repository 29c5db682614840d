import { type Actor, createActor, type InspectionEvent, type Observer } from 'xstate';
import { createPtyProcessLogic, type PtyProcessOptions } from '../../actors/pty/pty-process-actor.js';
import { ptyMachine } from '../../machines/pty.machine.js';

export type PtyActor = Actor<typeof ptyMachine>;
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * Makes PTY actors from one provided machine: each PTY's process options are registered under its
 * id and found by the process actor through its input, instead of providing a machine per PTY.
 */
export class PtyActorFactory {
  readonly #options = new Map<string, PtyProcessOptions>();
  readonly #machine = ptyMachine.provide({
    actors: { ptyProcess: createPtyProcessLogic((ptyId) => this.#options.get(ptyId)) },
  });

  create(ptyId: string, graceMs: number, process: PtyProcessOptions, inspect?: InspectOption): PtyActor {
    this.#options.set(ptyId, process);
    return createActor(this.#machine, { input: { ptyId, graceMs }, ...(inspect ? { inspect } : {}) });
  }

  /** The PTY is finished: its options are no longer needed. */
  release(ptyId: string): void {
    this.#options.delete(ptyId);
  }
}
