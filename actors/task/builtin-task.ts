import { readProcStat } from '../process/proc.js';
import { scanProcessTree } from '../process/process-tree.js';
import { stopProcessTrees } from '../process/tree-signaller.js';
import type { TaskBackend, TaskBinding, TaskLane } from './task-backend.js';

/**
 * The default task: the lane's own supervised processes. Every process lanevisor starts for a lane
 * carries `LANEVISOR_LANE_ID`; the task is healthy while none of them is stopped (state T: a
 * SIGSTOP or a debugger holding it), and ending it ends every one of them, setsid or not.
 */
export const LANE_TAG_VARIABLE = 'LANEVISOR_LANE_ID';
/** How long the lane's processes get between SIGTERM and SIGKILL when the task ends. */
export const BUILTIN_TASK_GRACE_MS = 2_000;

export const builtinTask: TaskBackend = {
  name: 'builtin',
  async bind(): Promise<TaskBinding> {
    return { backend: 'builtin', facts: {} };
  },
  async health(_binding: TaskBinding, lane: TaskLane): Promise<boolean> {
    return !laneProcesses(lane.laneId).some((pid) => readProcStat(pid)?.state === 'T');
  },
  async terminate(_binding: TaskBinding, lane: TaskLane): Promise<void> {
    await stopTaggedTree(LANE_TAG_VARIABLE, lane.laneId, BUILTIN_TASK_GRACE_MS);
  },
};

function laneProcesses(laneId: string): number[] {
  return scanProcessTree({ tag: { name: LANE_TAG_VARIABLE, value: laneId } }).map((member) => member.pid);
}

/** SIGTERM to every process carrying the tag, SIGKILL after the grace; resolves when none is left. */
export async function stopTaggedTree(name: string, value: string, graceMs: number): Promise<void> {
  await stopProcessTrees({ tag: { name, value } }, { graceMs, signals: ['SIGTERM'] });
}
