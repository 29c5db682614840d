import { assign, emit, enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
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
 * The lane machine's vocabulary, set up once for its states (lane.machine.ts): the actors it
 * invokes (provided by supervision/lane/lane-logic.ts), its guards, and its actions, most of them
 * the supervision of its children: PTYs spawned, restarted by their restart type or escalated,
 * stopped one by one; exec runs started or queued; everything stopped when the lane stops.
 */
type LaneInput = { readonly laneId: string };
export const TASK_WATCH_ID = 'taskWatch';

/** What the salvage and branch-removal steps report back to the machine. */
export type CleanupStepOutput = { readonly salvagedRef?: string | null; readonly branchKept?: boolean };

const unprovided = (name: string) => () => {
  throw new Error(`the ${name} actor must be provided`);
};

export const laneActions = setup({
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
