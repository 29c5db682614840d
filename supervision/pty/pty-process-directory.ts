import type { ActorRefFrom, InspectionEvent, Observer } from 'xstate';
import { createPtyProcessLogic, type PtyProcessOptions } from '../../actors/pty/pty-process-actor.js';
import { ptyMachine } from '../../machines/pty.machine.js';

export type PtyActorRef = ActorRefFrom<typeof ptyMachine>;
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * The PTY machine provided once per runtime, with a process actor that finds what to run by the
 * PTY id in its input: each PTY registers its process options here, instead of providing a machine
 * per PTY (which costs more than the rest of a spawn). Lane machines spawn their PTY children from
 * `machine`; every generation of a PTY finds the same options.
 */
export class PtyProcessDirectory {
  readonly #options = new Map<string, PtyProcessOptions>();
  readonly machine = ptyMachine.provide({
    actors: { ptyProcess: createPtyProcessLogic((ptyId) => this.#options.get(ptyId)) },
  });

  register(ptyId: string, process: PtyProcessOptions): void {
    this.#options.set(ptyId, process);
  }

  /** The PTY is finished: no generation will need its options again. */
  release(ptyId: string): void {
    this.#options.delete(ptyId);
  }
}
