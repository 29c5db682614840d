import {
  assign,
  emit,
  enqueueActions,
  fromCallback,
  fromPromise,
  raise,
  type SnapshotFrom,
  setup,
  stopChild,
} from 'xstate';
import type { PtyOutcome } from '../pty.machine.js';
import { ptyMachine } from '../pty.machine.js';
import {
  activeStateOf,
  canAttachAgent,
  canStartExec,
  childIdOf,
  isAttachedAgent,
  isExecChild,
  judgePtyEnding,
  nextPtyToStop,
  withoutPendingRestarts,
  withPty,
} from './lane-context.js';
import {
  type CleanupStep,
  type LaneContext,
  type LaneEmitted,
  type LaneEvent,
  type LaneMachineInput,
  type LaneState,
  ptyChildId,
} from './lane-protocol.js';

/**
 * One lane, pure: its lifecycle (new → provisioning → ready ⇄ running, ⇄ blocked, ⇄ shared,
 * → cleaning → closed) and the supervision of its children: PTYs (restarted by their restart type
 * within the restart intensity, escalated past it), exec runs (serialized on an unshared lane) and
 * the task watch. Stopping is a state of the lane, not a child's cleanup: PTYs are terminated one
 * by one in reverse start order, then the task, then (for a cleanup) the worktree, the branch and
 * the record. Every effect is a provided actor; this machine only decides.
 */
type LaneInput = { readonly laneId: string };
const TASK_WATCH_ID = 'taskWatch';

/** What the salvage and branch-removal steps report back to the machine. */
export type CleanupStepOutput = { readonly salvagedRef?: string | null; readonly branchKept?: boolean };

const unprovided = (name: string) => () => {
  throw new Error(`the ${name} actor must be provided`);
};

export const laneMachine = setup({
  types: {
    context: {} as LaneContext & { readonly intent: 'cleanup' | 'suspend' },
    events: {} as LaneEvent,
    input: {} as LaneMachineInput,
    emitted: {} as LaneEmitted,
  },
  actors: {
    provision: fromPromise<void, LaneInput>(unprovided('provision')),
    pty: ptyMachine,
    exec: fromPromise<void, LaneInput & { readonly execId: string }>(unprovided('exec')),
    taskWatch: fromCallback<{ type: 'never' }, LaneInput>(unprovided('taskWatch')),
    stopTask: fromPromise<void, LaneInput>(unprovided('stopTask')),
    salvage: fromPromise<CleanupStepOutput, LaneInput & { readonly discard: boolean }>(unprovided('salvage')),
    removeWorktree: fromPromise<void, LaneInput>(unprovided('removeWorktree')),
    removeBranch: fromPromise<CleanupStepOutput, LaneInput & { readonly discard: boolean }>(unprovided('removeBranch')),
    removeRecord: fromPromise<void, LaneInput>(unprovided('removeRecord')),
  },
  guards: {
    resumeAsReady: ({ context }) => context.resumeAs === 'ready',
    resumeAsCleaning: ({ context }) => context.resumeAs === 'cleaning',
    cleanupRequested: ({ context }) => context.cleanupRequested,
    suspending: ({ context }) => context.intent === 'suspend',
    noPtyRunning: ({ context }) => nextPtyToStop(context) === undefined,
    failedAt: ({ context }, step: CleanupStep) => context.failedStep === step,
    derivedIs: ({ context }, state: LaneState) => activeStateOf(context) === state,
    canAttach: ({ context, event }) => event.type === 'ATTACH' && canAttachAgent(context, event.agentId),
    isAttached: ({ context, event }) => event.type === 'DETACH' && isAttachedAgent(context, event.agentId),
  },
  actions: {
    track: assign(({ context, event }) => ({
      correlationId: 'correlationId' in event && event.correlationId ? event.correlationId : context.correlationId,
    })),
    spawnPty: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SPAWN_PTY') return;
      const generation = event.generation ?? 1;
      enqueue.assign({
        ptys: {
          ...context.ptys,
          [event.ptyId]: {
            generation,
            restart: event.restart,
            graceMs: event.graceMs,
            recentRestarts: 0,
            status: 'running',
          },
        },
        ptyOrder: [...context.ptyOrder, event.ptyId],
      });
      enqueue.spawnChild('pty', {
        id: ptyChildId(event.ptyId, generation),
        systemId: `lane:${context.laneId}/pty:${event.ptyId}`,
        input: { ptyId: event.ptyId, graceMs: event.graceMs },
      });
      enqueue(emit({ type: 'pty_generation_started', ptyId: event.ptyId, generation }));
    }),
    restartPty: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'RESTART_PTY') return;
      const child = context.ptys[event.ptyId];
      if (child?.status !== 'restarting' || child.generation !== event.generation) return;
      const generation = child.generation + 1;
      enqueue.assign({ ptys: withPty(context, event.ptyId, { generation, status: 'running' }) });
      enqueue.spawnChild('pty', {
        id: ptyChildId(event.ptyId, generation),
        systemId: `lane:${context.laneId}/pty:${event.ptyId}`,
        input: { ptyId: event.ptyId, graceMs: child.graceMs },
      });
      enqueue(emit({ type: 'pty_generation_started', ptyId: event.ptyId, generation }));
    }),
    stopPty: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'STOP_PTY') return;
      const child = context.ptys[event.ptyId];
      if (child?.status === 'running') {
        const terminate =
          event.graceMs === undefined
            ? { type: 'TERMINATE' as const }
            : { type: 'TERMINATE' as const, graceMs: event.graceMs };
        enqueue.sendTo(ptyChildId(event.ptyId, child.generation), terminate);
      } else if (child?.status === 'restarting') {
        enqueue.assign({ ptys: withPty(context, event.ptyId, { status: 'finished' }) });
        enqueue(emit({ type: 'pty_finished', ptyId: event.ptyId }));
      }
    }),
    forgetRestart: assign(({ context, event }) => {
      if (event.type !== 'RESTART_EXPIRED') return {};
      const child = context.ptys[event.ptyId];
      return child
        ? { ptys: withPty(context, event.ptyId, { recentRestarts: Math.max(0, child.recentRestarts - 1) }) }
        : {};
    }),
    /** A child ended while the lane is active: an exec (next one may start) or a PTY (restart policy). */
    childEnded: enqueueActions(({ context, event, enqueue }) => {
      const childId = childIdOf(event.type);
      enqueue.stopChild(childId);
      if (isExecChild(childId)) {
        const running = context.running.filter((id) => id !== childId);
        const next = running.length === 0 || context.shared ? context.queued[0] : undefined;
        enqueue.assign({
          running: next ? [...running, next] : running,
          queued: next ? context.queued.slice(1) : context.queued,
        });
        if (next) startExec(enqueue, context.laneId, next);
        return;
      }
      const output = (event as { output?: PtyOutcome }).output;
      const judged = judgePtyEnding(context, childId, output, false);
      if (!judged) return;
      const { ptyId, decision } = judged;
      const child = context.ptys[ptyId] as NonNullable<LaneContext['ptys'][string]>;
      if (decision.kind === 'restart') {
        enqueue.assign({
          ptys: withPty(context, ptyId, { status: 'restarting', recentRestarts: child.recentRestarts + 1 }),
        });
        enqueue.raise({ type: 'RESTART_PTY', ptyId, generation: child.generation }, { delay: decision.delayMs });
        enqueue.raise({ type: 'RESTART_EXPIRED', ptyId }, { delay: context.restartIntensity.periodMs });
        enqueue(emit({ type: 'pty_restarting', ptyId, generation: child.generation + 1, delayMs: decision.delayMs }));
        return;
      }
      enqueue.assign({
        ptys: withPty(context, ptyId, { status: 'finished' }),
        ...(decision.kind === 'escalate' ? { blockReason: `pty ${ptyId} ${decision.reason}` } : {}),
      });
      if (decision.kind === 'escalate') enqueue(emit({ type: 'pty_escalated', ptyId, reason: decision.reason }));
      enqueue(emit({ type: 'pty_finished', ptyId }));
    }),
    startOrQueueExec: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'EXEC') return;
      if (!canStartExec(context)) {
        enqueue.assign({ queued: [...context.queued, event.execId] });
        return;
      }
      enqueue.assign({ running: [...context.running, event.execId] });
      startExec(enqueue, context.laneId, event.execId);
    }),
    /** Stopping: no exec keeps running, no PTY restarts, and every agent is detached. */
    beginStopping: enqueueActions(({ context, enqueue }) => {
      for (const execId of context.running) enqueue.stopChild(execId);
      if (context.agents.length > 0) enqueue(emit({ type: 'agents_detached', agentIds: context.agents }));
      enqueue.assign({ running: [], queued: [], agents: [], shared: false, ptys: withoutPendingRestarts(context) });
    }),
    terminateNextPty: enqueueActions(({ context, enqueue }) => {
      const ptyId = nextPtyToStop(context);
      const child = ptyId ? context.ptys[ptyId] : undefined;
      if (ptyId && child) enqueue.sendTo(ptyChildId(ptyId, child.generation), { type: 'TERMINATE' });
    }),
    markPtyStopped: enqueueActions(({ context, event, enqueue }) => {
      const childId = childIdOf(event.type);
      enqueue.stopChild(childId);
      const judged = judgePtyEnding(context, childId, (event as { output?: PtyOutcome }).output, true);
      if (!judged) return;
      enqueue.assign({ ptys: withPty(context, judged.ptyId, { status: 'finished' }) });
      enqueue(emit({ type: 'pty_finished', ptyId: judged.ptyId }));
    }),
    recordFailure: assign(({ event }, step: CleanupStep | null) => ({
      failure: describeError((event as { error?: unknown }).error),
      failedStep: step,
    })),
  },
}).createMachine({
  id: 'lane',
  context: ({ input }) => ({
    laneId: input.laneId,
    correlationId: input.correlationId,
    resumeAs: input.resumeAs ?? null,
    agents: input.agents ?? [],
    shared: false,
    blockReason: null,
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

function startExec(
  enqueue: {
    spawnChild: (src: 'exec', options: { id: string; systemId: string; input: LaneInput & { execId: string } }) => void;
  },
  laneId: string,
  execId: string,
): void {
  enqueue.spawnChild('exec', { id: execId, systemId: `lane:${laneId}/${execId}`, input: { laneId, execId } });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

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
