import { tagsOfStoppedProcesses } from '../process/process-tree.js';
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
/**
 * How long one /proc scan answers every lane's health check. A scan per lane per check was most of
 * an idle `serve`'s CPU (50 lanes: 50 scans every 5 s); the lanes' checks come due together
 * (supervision's watchTask aligns them), so one scan serves them all. An answer up to a second old
 * is as good as a fresh one: a task is acted on only after it stayed unhealthy for the stall
 * timeout (30 s by default).
 */
export const STOPPED_SCAN_SHARE_MS = 1_000;

let lastScan: { readonly at: number; readonly stoppedLanes: ReadonlySet<string> } | undefined;

/** The lanes with a stopped process, from a scan at most STOPPED_SCAN_SHARE_MS old. */
function lanesWithStoppedProcesses(): ReadonlySet<string> {
  const now = performance.now();
  if (lastScan === undefined || now - lastScan.at >= STOPPED_SCAN_SHARE_MS) {
    lastScan = { at: now, stoppedLanes: tagsOfStoppedProcesses(LANE_TAG_VARIABLE) };
  }
  return lastScan.stoppedLanes;
}

export const builtinTask: TaskBackend = {
  name: 'builtin',
  async bind(): Promise<TaskBinding> {
    return { backend: 'builtin', facts: {} };
  },
  async health(_binding: TaskBinding, lane: TaskLane): Promise<boolean> {
    return !lanesWithStoppedProcesses().has(lane.laneId);
  },
  async terminate(_binding: TaskBinding, lane: TaskLane): Promise<void> {
    await stopTaggedTree(LANE_TAG_VARIABLE, lane.laneId, BUILTIN_TASK_GRACE_MS);
  },
};

/** SIGTERM to every process carrying the tag, SIGKILL after the grace; resolves when none is left. */
export async function stopTaggedTree(name: string, value: string, graceMs: number): Promise<void> {
  await stopProcessTrees({ tag: { name, value } }, { graceMs, signals: ['SIGTERM'] });
}
