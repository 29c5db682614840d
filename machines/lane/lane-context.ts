import type { PtyOutcome } from '../pty.machine.js';
import { decideRestart, endingOf, type RestartDecision } from '../restart-policy.js';
import {
  EXEC_ID_PREFIX,
  type LaneContext,
  type LaneState,
  PTY_CHILD_SEPARATOR,
  type PtyChild,
} from './lane-protocol.js';

/** Pure functions over the lane context: what the lane machine decides, testable on their own. */

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

/** The child actor id a done or error event is about. */
export function childIdOf(eventType: string): string {
  if (eventType.startsWith(DONE_PREFIX)) return eventType.slice(DONE_PREFIX.length);
  return eventType.startsWith(ERROR_PREFIX) ? eventType.slice(ERROR_PREFIX.length) : '';
}

export function isExecChild(childId: string): boolean {
  return childId.startsWith(EXEC_ID_PREFIX);
}

/** `pty_…~3` → the PTY id and generation, or undefined for anything else. */
export function parsePtyChildId(childId: string): { ptyId: string; generation: number } | undefined {
  const at = childId.lastIndexOf(PTY_CHILD_SEPARATOR);
  if (at <= 0) return undefined;
  const generation = Number(childId.slice(at + 1));
  return Number.isInteger(generation) ? { ptyId: childId.slice(0, at), generation } : undefined;
}

/** The state an active lane is in: blocked over running over shared over ready. */
export function activeStateOf(context: LaneContext): Extract<LaneState, 'ready' | 'running' | 'blocked' | 'shared'> {
  if (context.blockReason !== null) return 'blocked';
  if (context.running.length > 0) return 'running';
  return context.shared ? 'shared' : 'ready';
}

/** Whether `agentId` may join: it is not attached yet, and the lane is shared or holds nobody. */
export function canAttachAgent(context: Pick<LaneContext, 'agents' | 'shared'>, agentId: string): boolean {
  return !context.agents.includes(agentId) && (context.shared || context.agents.length === 0);
}

export function isAttachedAgent(context: Pick<LaneContext, 'agents'>, agentId: string): boolean {
  return context.agents.includes(agentId);
}

/** A lane that is not shared runs one exec at a time; a shared one runs them side by side. */
export function canStartExec(context: LaneContext): boolean {
  return context.shared || context.running.length === 0;
}

/**
 * A child generation ended. A stale generation (one that was already replaced) changes nothing;
 * during cleanup or suspension nothing restarts; otherwise the restart policy decides.
 */
export function judgePtyEnding(
  context: LaneContext,
  childId: string,
  outcome: PtyOutcome | undefined,
  stopping: boolean,
): { readonly ptyId: string; readonly decision: RestartDecision } | undefined {
  const parsed = parsePtyChildId(childId);
  const child = parsed ? context.ptys[parsed.ptyId] : undefined;
  if (!parsed || !child || child.generation !== parsed.generation || child.status !== 'running') return undefined;
  // An actor error (no outcome) is an abnormal ending.
  const ending = outcome ? endingOf(outcome) : 'abnormal';
  if (stopping) return { ptyId: parsed.ptyId, decision: { kind: 'none' } };
  return {
    ptyId: parsed.ptyId,
    decision: decideRestart(child.restart, ending, child.recentRestarts, context.restartIntensity),
  };
}

export function withPty(context: LaneContext, ptyId: string, change: Partial<PtyChild>): LaneContext['ptys'] {
  const child = context.ptys[ptyId];
  return child ? { ...context.ptys, [ptyId]: { ...child, ...change } } : context.ptys;
}

/** The PTY to stop next during shutdown: the latest started one that still has a child. */
export function nextPtyToStop(context: LaneContext): string | undefined {
  return [...context.ptyOrder].reverse().find((ptyId) => context.ptys[ptyId]?.status === 'running');
}

/** PTYs waiting for a restart are simply not restarted once the lane stops. */
export function withoutPendingRestarts(context: LaneContext): LaneContext['ptys'] {
  const ptys: Record<string, PtyChild> = {};
  for (const [ptyId, child] of Object.entries(context.ptys)) {
    ptys[ptyId] = child.status === 'restarting' ? { ...child, status: 'finished' } : child;
  }
  return ptys;
}
