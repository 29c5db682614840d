import { fromCallback, fromPromise } from 'xstate';
import { type CleanupStepOutput, laneMachine } from '../../machines/lane/lane.machine.js';
import type { RuntimeContext } from '../runtime/runtime-context.js';
import type { LaneController } from './lane-controller.js';
import type { LaneResources } from './lane-resources.js';

type DiscardInput = { readonly laneId: string; readonly discard: boolean };

/**
 * The lane machine provided once per runtime with its effects: each provided actor finds its lane
 * by the lane id in its input and runs that lane's step. The machine stays pure; these are the
 * only places its decisions touch git, processes and files.
 */
export function createLaneLogic(ctx: RuntimeContext, lookup: (laneId: string) => LaneController | undefined) {
  const lane = (laneId: string): LaneController => {
    const found = lookup(laneId);
    if (found === undefined) throw new Error(`no lane ${laneId} in this runtime`);
    return found;
  };
  /** One effect of a lane, run as a step of its resources (so its error keeps its code for the caller). */
  const laneStep = <I extends { laneId: string }, T>(run: (resources: LaneResources, input: I) => Promise<T>) =>
    fromPromise<T, I>(({ input }) => {
      const { resources } = lane(input.laneId);
      return resources.step(() => run(resources, input));
    });
  return laneMachine.provide({
    actors: {
      pty: ctx.ptys.processes.machine,
      provision: laneStep((resources) => resources.provision()),
      exec: fromPromise(({ input, signal }) => lane(input.laneId).execs.run(input.execId, signal)),
      taskWatch: fromCallback(({ input, sendBack }) =>
        watchTask(ctx, lane(input.laneId), (reason) => sendBack({ type: 'TASK_STALLED', reason })),
      ),
      stopTask: fromPromise(({ input }) => lane(input.laneId).stopTask()),
      salvage: laneStep<DiscardInput, CleanupStepOutput>((resources, input) => resources.salvage(input.discard)),
      removeWorktree: laneStep((resources) => resources.removeWorktree()),
      removeBranch: laneStep<DiscardInput, CleanupStepOutput>((resources, input) =>
        resources.removeBranch(input.discard),
      ),
      removeRecord: laneStep((resources) => resources.removeRecord()),
    },
  });
}

/**
 * Asks the task for its health every interval; one that stays unhealthy for the stall timeout is
 * reported, killed, and the lane is told (it goes blocked: `task_stalled`). Stops with the lane.
 * Every lane's check comes due on the same multiples of the interval (on this process's clock), so
 * a backend can answer all of them from one look (the builtin task: one /proc scan per tick, not
 * one per lane).
 */
function watchTask(ctx: RuntimeContext, lane: LaneController, stalled: (reason: string) => void): () => void {
  const { intervalMs, stallTimeoutMs } = ctx.taskHealth;
  let unhealthySince: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(() => void check(), untilNextTick(intervalMs));
    timer.unref();
  };
  const check = async (): Promise<void> => {
    const healthy = await lane.resources.taskHealthy().catch(() => false);
    if (stopped) return;
    const now = performance.now();
    unhealthySince = healthy ? undefined : (unhealthySince ?? now);
    if (unhealthySince !== undefined && now - unhealthySince >= stallTimeoutMs) {
      ctx.bus.publishLifecycle('lane.task_stalled', {
        laneId: lane.id,
        unhealthyForMs: Math.round(now - unhealthySince),
      });
      await lane.resources.stopTask().catch(() => undefined);
      ctx.bus.publishLifecycle('lane.task_killed', { laneId: lane.id, backend: ctx.task.name });
      if (!stopped) stalled('task_stalled');
      return;
    }
    schedule();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * The wait until the next multiple of the interval, at least half an interval: a timer that fires
 * a hair early does not check twice, and a new lane's first check comes 0.5-1.5 intervals after it
 * starts.
 */
function untilNextTick(intervalMs: number): number {
  const wait = Math.ceil(intervalMs - (performance.now() % intervalMs));
  return wait < intervalMs / 2 ? wait + intervalMs : wait;
}
