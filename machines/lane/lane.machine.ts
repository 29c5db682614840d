import { assign, enqueueActions, raise, type SnapshotFrom, stopChild } from 'xstate';
import { laneActions, TASK_WATCH_ID } from './lane-actions.js';
import { activeStateOf } from './lane-context.js';
import type { LaneState } from './lane-protocol.js';

export type { CleanupStepOutput } from './lane-actions.js';

/**
 * One lane, pure: its lifecycle (new → provisioning → ready ⇄ running, ⇄ blocked, ⇄ shared,
 * → cleaning → closed) and the supervision of its children: PTYs (restarted by their restart type
 * within the restart intensity, escalated past it), exec runs (serialized on an unshared lane) and
 * the task watch. Stopping is a state of the lane, not a child's cleanup: PTYs are terminated one
 * by one in reverse start order, then the task, then (for a cleanup) the worktree, the branch and
 * the record. Every effect is a provided actor; this machine only decides.
 */
export const laneMachine = laneActions.createMachine({
  id: 'lane',
  context: ({ input }) => ({
    laneId: input.laneId,
    correlationId: input.correlationId,
    resumeAs: input.resumeAs ?? null,
    agents: input.agents ?? [],
    shared: input.shared ?? false,
    blockReason: input.blockReason ?? null,
    running: [],
    queued: [],
    ptys: {},
    ptyOrder: [],
    restartIntensity: input.restartIntensity,
    cleanupRequested: false,
    discard: input.discard ?? false,
    failure: null,
    failedStep: null,
    salvagedRef: null,
    branchKept: false,
    intent: 'cleanup',
  }),
  initial: 'new',
  states: {
    new: {
      always: [
        { guard: 'resumeAsReady', target: 'active' },
        { guard: 'resumeAsCleaning', target: 'stopping' },
      ],
      on: {
        PROVISION: { target: 'provisioning', actions: 'track' },
        CLEANUP: { target: 'closed', actions: 'track' },
      },
    },
    provisioning: {
      invoke: {
        id: 'provision',
        src: 'provision',
        input: ({ context }) => ({ laneId: context.laneId }),
        onDone: [{ guard: 'cleanupRequested', target: 'stopping' }, { target: 'active' }],
        // A lane that never became ready holds nobody's work: what a failed checkout left is discarded.
        onError: { target: 'stopping', actions: [{ type: 'recordFailure', params: null }, assign({ discard: true })] },
      },
      on: {
        CLEANUP: { actions: ['track', assign(({ event }) => ({ cleanupRequested: true, discard: event.discard }))] },
      },
    },
    active: {
      // Spawned rather than invoked so it gets a per-lane system id (an invoke's is fixed).
      entry: enqueueActions(({ context, enqueue }) =>
        enqueue.spawnChild('taskWatch', {
          id: TASK_WATCH_ID,
          systemId: `lane:${context.laneId}/task`,
          input: { laneId: context.laneId },
        }),
      ),
      exit: stopChild(TASK_WATCH_ID),
      initial: 'ready',
      states: {
        ready: {
          always: [
            { guard: { type: 'derivedIs', params: 'blocked' }, target: 'blocked' },
            { guard: { type: 'derivedIs', params: 'running' }, target: 'running' },
            { guard: { type: 'derivedIs', params: 'shared' }, target: 'shared' },
          ],
        },
        running: {
          always: [
            { guard: { type: 'derivedIs', params: 'blocked' }, target: 'blocked' },
            { guard: { type: 'derivedIs', params: 'shared' }, target: 'shared' },
            { guard: { type: 'derivedIs', params: 'ready' }, target: 'ready' },
          ],
        },
        shared: {
          always: [
            { guard: { type: 'derivedIs', params: 'blocked' }, target: 'blocked' },
            { guard: { type: 'derivedIs', params: 'running' }, target: 'running' },
            { guard: { type: 'derivedIs', params: 'ready' }, target: 'ready' },
          ],
        },
        blocked: {
          always: [
            { guard: { type: 'derivedIs', params: 'running' }, target: 'running' },
            { guard: { type: 'derivedIs', params: 'shared' }, target: 'shared' },
            { guard: { type: 'derivedIs', params: 'ready' }, target: 'ready' },
          ],
        },
      },
      on: {
        SPAWN_PTY: { actions: ['track', 'spawnPty'] },
        EXEC: { actions: ['track', 'startOrQueueExec'] },
        SHARE: { actions: ['track', assign({ shared: true })] },
        ATTACH: {
          guard: 'canAttach',
          actions: ['track', assign(({ context, event }) => ({ agents: [...context.agents, event.agentId] }))],
        },
        DETACH: {
          guard: 'isAttached',
          actions: [
            'track',
            assign(({ context, event }) => {
              const agents = context.agents.filter((agent) => agent !== event.agentId);
              // The last agent leaving a shared lane unshares it.
              return { agents, shared: context.shared && agents.length > 0 };
            }),
          ],
        },
        BLOCK: { actions: ['track', assign(({ event }) => ({ blockReason: event.reason }))] },
        UNBLOCK: { actions: ['track', assign({ blockReason: null })] },
        TASK_STALLED: { actions: assign(({ event }) => ({ blockReason: event.reason })) },
        STOP_PTY: { actions: ['track', 'stopPty'] },
        RESTART_PTY: { actions: 'restartPty' },
        RESTART_EXPIRED: { actions: 'forgetRestart' },
        'xstate.done.actor.*': { actions: 'childEnded' },
        'xstate.error.actor.*': { actions: 'childEnded' },
        CLEANUP: {
          target: 'stopping',
          actions: ['track', assign(({ event }) => ({ discard: event.discard, intent: 'cleanup' as const }))],
        },
        SUSPEND: { target: 'stopping', actions: ['track', assign({ intent: 'suspend' as const })] },
      },
    },
    stopping: {
      entry: 'beginStopping',
      initial: 'ptys',
      states: {
        ptys: {
          // Delayed by a tick, so the lane's new state is announced before any PTY is signalled.
          entry: raise({ type: 'STOP_NEXT_PTY' }, { delay: 0 }),
          always: { guard: 'noPtyRunning', target: 'task' },
          on: {
            STOP_NEXT_PTY: { actions: 'terminateNextPty' },
            'xstate.done.actor.*': { target: 'ptys', reenter: true, actions: 'markPtyStopped' },
            'xstate.error.actor.*': { target: 'ptys', reenter: true, actions: 'markPtyStopped' },
          },
        },
        task: {
          invoke: {
            id: 'stopTask',
            src: 'stopTask',
            input: ({ context }) => ({ laneId: context.laneId }),
            // A task that fails to stop does not keep the lane's files from being saved and removed.
            onDone: 'done',
            onError: 'done',
          },
        },
        done: { type: 'final' },
      },
      on: {
        CLEANUP: {
          actions: ['track', assign(({ event }) => ({ discard: event.discard, intent: 'cleanup' as const }))],
        },
        RESTART_PTY: {},
        RESTART_EXPIRED: {},
      },
      onDone: [{ guard: 'suspending', target: 'suspended' }, { target: 'cleaning' }],
    },
    cleaning: {
      initial: 'salvaging',
      states: {
        salvaging: {
          invoke: {
            id: 'salvage',
            src: 'salvage',
            input: ({ context }) => ({ laneId: context.laneId, discard: context.discard }),
            onDone: {
              target: 'removingWorktree',
              actions: assign(({ event }) => ({ salvagedRef: event.output.salvagedRef ?? null })),
            },
            onError: { target: 'stalled', actions: { type: 'recordFailure', params: 'salvaging' } },
          },
        },
        removingWorktree: {
          invoke: {
            id: 'removeWorktree',
            src: 'removeWorktree',
            input: ({ context }) => ({ laneId: context.laneId }),
            onDone: 'removingBranch',
            onError: { target: 'stalled', actions: { type: 'recordFailure', params: 'removingWorktree' } },
          },
        },
        removingBranch: {
          invoke: {
            id: 'removeBranch',
            src: 'removeBranch',
            input: ({ context }) => ({ laneId: context.laneId, discard: context.discard }),
            onDone: {
              target: 'removingRecord',
              actions: assign(({ event }) => ({ branchKept: event.output.branchKept ?? false })),
            },
            onError: { target: 'stalled', actions: { type: 'recordFailure', params: 'removingBranch' } },
          },
        },
        removingRecord: {
          invoke: {
            id: 'removeRecord',
            src: 'removeRecord',
            input: ({ context }) => ({ laneId: context.laneId }),
            onDone: '#lane.closed',
            onError: { target: 'stalled', actions: { type: 'recordFailure', params: 'removingRecord' } },
          },
        },
        /** A step failed: asking for the cleanup again resumes from that step; a shutdown leaves it for the next runtime. */
        stalled: {
          on: {
            SUSPEND: { target: '#lane.suspended', actions: ['track', assign({ intent: 'suspend' as const })] },
            CLEANUP: [
              { guard: { type: 'failedAt', params: 'salvaging' }, target: 'salvaging', actions: 'track' },
              { guard: { type: 'failedAt', params: 'removingWorktree' }, target: 'removingWorktree', actions: 'track' },
              { guard: { type: 'failedAt', params: 'removingBranch' }, target: 'removingBranch', actions: 'track' },
              { target: 'removingRecord', actions: 'track' },
            ],
          },
        },
      },
    },
    suspended: { type: 'final' },
    closed: { type: 'final' },
  },
});

export type LaneSnapshot = SnapshotFrom<typeof laneMachine>;

/** The contract's state of a lane, read off a snapshot of its machine. */
export function laneStateOf(snapshot: LaneSnapshot): LaneState {
  if (snapshot.matches('new')) return 'new';
  if (snapshot.matches('provisioning')) return 'provisioning';
  if (snapshot.matches('closed')) return 'closed';
  if (snapshot.matches('cleaning')) return 'cleaning';
  const suspending = snapshot.context.intent === 'suspend';
  if (snapshot.matches('stopping') && !suspending) return 'cleaning';
  return activeStateOf(snapshot.context);
}
