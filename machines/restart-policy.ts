import type { PtyOutcome } from './pty.machine.js';

/**
 * OTP's restart rules for a supervised child, as pure functions: the restart type says whether an
 * ending calls for a restart; the intensity (at most `maxRestarts` within `periodMs`) says when a
 * child restarts too often and the supervisor must escalate instead; the backoff spaces restarts.
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface RestartIntensity {
  readonly maxRestarts: number;
  readonly periodMs: number;
}

export const DEFAULT_RESTART_INTENSITY: RestartIntensity = { maxRestarts: 3, periodMs: 5_000 };
/** The first restart waits this long; each further one within the period twice as long. */
export const RESTART_BACKOFF_BASE_MS = 100;
export const RESTART_BACKOFF_MAX_MS = 2_000;

/** normal: exit 0 on its own; abnormal: crash, non-zero exit, failed spawn; requested: terminated on purpose. */
export type Ending = 'normal' | 'abnormal' | 'requested';

export type RestartDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'restart'; readonly delayMs: number }
  | { readonly kind: 'escalate'; readonly reason: string };

export function endingOf(outcome: PtyOutcome): Ending {
  if (outcome.terminateRequested) return 'requested';
  return outcome.reason === 'exited' ? 'normal' : 'abnormal';
}

/** permanent: always (unless terminated on purpose); transient: after an abnormal ending; temporary: never. */
export function wantsRestart(type: RestartType, ending: Ending): boolean {
  if (ending === 'requested' || type === 'temporary') return false;
  return type === 'permanent' || ending === 'abnormal';
}

/**
 * `recentRestarts`: how many restarts happened within the last `periodMs` (the supervisor counts
 * them up on a restart and down again when the period has passed, on its own clock).
 */
export function decideRestart(
  type: RestartType,
  ending: Ending,
  recentRestarts: number,
  intensity: RestartIntensity,
): RestartDecision {
  if (!wantsRestart(type, ending)) return { kind: 'none' };
  if (recentRestarts >= intensity.maxRestarts) {
    return {
      kind: 'escalate',
      reason: `restarted ${recentRestarts} times within ${intensity.periodMs} ms (the most allowed is ${intensity.maxRestarts})`,
    };
  }
  return { kind: 'restart', delayMs: Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_BASE_MS * 2 ** recentRestarts) };
}
