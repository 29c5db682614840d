import { assign, fromCallback, type SnapshotFrom, sendTo, setup } from 'xstate';
import type {
  PtyProcessCommand,
  PtyProcessEvent,
  PtyState,
  PtyTransitionReason,
  ThrottleReason,
} from './pty-protocol.js';

/**
 * The life of one terminal, pure: idle → spawning → active ⇄ throttled → errored | stopped.
 * The process itself is the invoked `ptyProcess` actor, provided by the supervision layer; this
 * machine only decides. Terminating is graceful (SIGHUP and SIGTERM to every process of the PTY),
 * then forced (SIGKILL) once `graceMs` has passed, and ends when no process is left and the
 * output has been drained.
 */
export interface PtyMachineInput {
  /** Handed to the process actor, which looks up what to run by it. */
  readonly ptyId: string;
  /** Default grace between the graceful and the forced stop; TERMINATE may override it. */
  readonly graceMs: number;
}

/** The input of the process actor: only the PTY's id, so the context stays plain data. */
export interface PtyProcessInput {
  readonly ptyId: string;
}

export interface PtyExitInfo {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** How a PTY machine ended: its output, read by the lane supervisor's restart policy. */
export interface PtyOutcome {
  readonly ptyId: string;
  readonly reason: PtyTransitionReason;
  readonly exit: PtyExitInfo | null;
  readonly failure: string | null;
  readonly terminateRequested: boolean;
}

export interface PtyContext {
  readonly ptyId: string;
  readonly graceMs: number;
  readonly pid: number | null;
  readonly exit: PtyExitInfo | null;
  readonly failure: string | null;
  readonly reason: PtyTransitionReason;
  readonly terminateRequested: boolean;
  readonly treeGone: boolean;
  /** SIGKILL was needed. */
  readonly escalated: boolean;
}

/** Events from the controller (the public handle) plus those of the process actor. */
export type PtyMachineEvent =
  | { readonly type: 'SPAWN' }
  | { readonly type: 'TERMINATE'; readonly graceMs?: number }
  | { readonly type: 'CONSUMER_BEHIND' }
  | { readonly type: 'CONSUMER_CAUGHT_UP' }
  | { readonly type: 'IDLE' }
  | { readonly type: 'OUTPUT' }
  | { readonly type: 'RESIZE'; readonly cols: number; readonly rows: number }
  | { readonly type: 'SIGNAL'; readonly signal: string }
  | PtyProcessEvent;

export const TERMINATE_SIGNALS: readonly string[] = ['SIGHUP', 'SIGTERM'];

export const ptyMachine = setup({
  types: {
    context: {} as PtyContext,
    events: {} as PtyMachineEvent,
    input: {} as PtyMachineInput,
    output: {} as PtyOutcome,
  },
  actors: {
    // Replaced through `ptyMachine.provide({ actors: { ptyProcess } })`.
    ptyProcess: fromCallback<PtyProcessCommand, PtyProcessInput>(() => {
      throw new Error('the ptyProcess actor must be provided');
    }),
  },
  delays: {
    terminateGrace: ({ context }) => context.graceMs,
  },
  guards: {
    terminateRequested: ({ context }) => context.terminateRequested,
    exitedCleanly: ({ event }) => event.type === 'EXITED' && event.exitCode === 0 && event.signal === null,
    hasExited: ({ context }) => context.exit !== null,
    // Once SIGKILL went out or every process is gone, what is left to read is bounded: read it.
    mustDrain: ({ context }) => context.escalated || context.treeGone,
  },
  actions: {
    requestTerminate: assign(({ context, event }) => ({
      terminateRequested: true,
      graceMs: event.type === 'TERMINATE' && event.graceMs !== undefined ? event.graceMs : context.graceMs,
    })),
    recordExit: assign(({ event }) =>
      event.type === 'EXITED' ? { exit: { exitCode: event.exitCode, signal: event.signal } } : {},
    ),
    pauseReading: sendTo('process', { type: 'PAUSE' } satisfies PtyProcessCommand),
    resumeReading: sendTo('process', { type: 'RESUME' } satisfies PtyProcessCommand),
    // Only RESIZE and SIGNAL transitions use it; both events are also process commands.
    forwardToProcess: sendTo(
      'process',
      ({ event }) => event as Extract<PtyMachineEvent, { type: 'RESIZE' | 'SIGNAL' }> satisfies PtyProcessCommand,
    ),
    signalTree: sendTo('process', { type: 'SIGNAL_TREE', signals: TERMINATE_SIGNALS } satisfies PtyProcessCommand),
    killTree: sendTo('process', { type: 'KILL_TREE' } satisfies PtyProcessCommand),
  },
}).createMachine({
  id: 'pty',
  // What a supervisor needs to judge the ending: how it ended and whether it was asked to.
  output: ({ context }): PtyOutcome => ({
    ptyId: context.ptyId,
    reason: context.reason,
    exit: context.exit,
    failure: context.failure,
    terminateRequested: context.terminateRequested,
  }),
  context: ({ input }) => ({
    ptyId: input.ptyId,
    graceMs: input.graceMs,
    pid: null,
    exit: null,
    failure: null,
    reason: 'created',
    terminateRequested: false,
    treeGone: false,
    escalated: false,
  }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        SPAWN: { target: 'live', actions: assign({ reason: 'spawn' }) },
        TERMINATE: { target: 'stopped', actions: assign({ reason: 'terminated', terminateRequested: true }) },
      },
    },
    live: {
      invoke: {
        id: 'process',
        src: 'ptyProcess',
        input: ({ context }) => ({ ptyId: context.ptyId }),
        // A fault in the process actor ends this PTY (its cleanup kills the child), never its parent.
        onError: {
          target: 'errored',
          actions: assign(({ event }) => ({ failure: describeError(event.error), reason: 'crashed' as const })),
        },
      },
      on: {
        // The terminal host died: the PTY ends errored (its supervisor restarts it per its restart type).
        LOST: {
          target: 'errored',
          actions: assign(({ event }) => ({ failure: event.reason, reason: 'lost' as const })),
        },
      },
      initial: 'spawning',
      states: {
        spawning: {
          on: {
            SPAWNED: {
              target: 'running',
              actions: assign(({ event }) => ({ pid: event.pid, reason: 'spawned' as const })),
            },
            SPAWN_FAILED: {
              target: '#pty.errored',
              actions: assign(({ event }) => ({ failure: event.message, reason: 'spawn_failed' as const })),
            },
            TERMINATE: { actions: 'requestTerminate' },
          },
        },
        running: {
          type: 'parallel',
          on: {
            EXITED: [
              { guard: 'terminateRequested', actions: 'recordExit' },
              { guard: 'exitedCleanly', target: '#pty.stopped', actions: ['recordExit', assign({ reason: 'exited' })] },
              { target: '#pty.errored', actions: ['recordExit', assign({ reason: 'crashed' })] },
            ],
            RESIZE: { actions: 'forwardToProcess' },
            SIGNAL: { actions: 'forwardToProcess' },
          },
          states: {
            flow: {
              initial: 'active',
              states: {
                active: {
                  on: {
                    CONSUMER_BEHIND: {
                      guard: ({ context }) => !(context.escalated || context.treeGone),
                      target: 'throttled.backpressure',
                      actions: assign({ reason: 'backpressure' }),
                    },
                    IDLE: {
                      guard: ({ context }) => !context.terminateRequested,
                      target: 'throttled.idle',
                      actions: assign({ reason: 'idle' }),
                    },
                  },
                },
                throttled: {
                  initial: 'backpressure',
                  states: {
                    backpressure: {
                      entry: 'pauseReading',
                      exit: 'resumeReading',
                      always: {
                        guard: 'mustDrain',
                        target: '#pty.live.running.flow.active',
                        actions: assign({ reason: 'terminating' }),
                      },
                      on: {
                        CONSUMER_CAUGHT_UP: {
                          target: '#pty.live.running.flow.active',
                          actions: assign({ reason: 'drained' }),
                        },
                      },
                    },
                    idle: {
                      always: {
                        guard: 'terminateRequested',
                        target: '#pty.live.running.flow.active',
                        actions: assign({ reason: 'terminating' }),
                      },
                      on: {
                        OUTPUT: { target: '#pty.live.running.flow.active', actions: assign({ reason: 'output' }) },
                        CONSUMER_BEHIND: { target: 'backpressure', actions: assign({ reason: 'backpressure' }) },
                      },
                    },
                  },
                },
              },
            },
            termination: {
              initial: 'none',
              states: {
                none: {
                  always: { guard: 'terminateRequested', target: 'graceful' },
                  on: { TERMINATE: { target: 'graceful', actions: 'requestTerminate' } },
                },
                graceful: {
                  entry: 'signalTree',
                  after: { terminateGrace: 'forced' },
                  on: { TREE_GONE: { target: 'done', actions: assign({ treeGone: true }) } },
                },
                forced: {
                  entry: [assign({ escalated: true }), 'killTree'],
                  on: { TREE_GONE: { target: 'done', actions: assign({ treeGone: true }) } },
                },
                done: {
                  always: { guard: 'hasExited', target: '#pty.stopped', actions: assign({ reason: 'terminated' }) },
                },
              },
            },
          },
        },
      },
    },
    errored: { type: 'final' },
    stopped: { type: 'final' },
  },
});

export type PtySnapshot = SnapshotFrom<typeof ptyMachine>;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The contract's state of a PTY, read off a snapshot of its machine. */
export function ptyStateOf(snapshot: PtySnapshot): PtyState {
  if (snapshot.matches('idle')) return 'idle';
  if (snapshot.matches('errored')) return 'errored';
  if (snapshot.matches('stopped')) return 'stopped';
  if (snapshot.matches({ live: 'spawning' })) return 'spawning';
  return snapshot.matches({ live: { running: { flow: 'throttled' } } }) ? 'throttled' : 'active';
}

/** Why the PTY is throttled, or null when it is not. */
export function throttleReasonOf(snapshot: PtySnapshot): ThrottleReason | null {
  if (snapshot.matches({ live: { running: { flow: { throttled: 'backpressure' } } } })) return 'backpressure';
  if (snapshot.matches({ live: { running: { flow: { throttled: 'idle' } } } })) return 'idle';
  return null;
}
