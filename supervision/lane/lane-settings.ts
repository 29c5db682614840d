import { type LanePlan, laneEnvironment, planLane } from '../config/lane-plan.js';
import type { RuntimeContext } from '../runtime/runtime-context.js';
import type { LaneRecord } from '../state/lane-records.js';

/** What a lane was made with and lives by: its plan, its port, and the environment its processes start from. */
export interface LaneSettings {
  readonly plan: LanePlan;
  readonly port: number | null;
  readonly env: Readonly<Record<string, string>>;
}

export function laneSettingsOf(
  ctx: RuntimeContext,
  plan: LanePlan,
  lane: { readonly laneId: string; readonly label: string | null; readonly port: number | null },
): LaneSettings {
  return { plan, port: lane.port, env: laneEnvironment(ctx.baseEnv, plan.env, lane) };
}

/**
 * A recorded lane's settings, as the file says today: its template if the file still has it (a
 * template removed since is no reason to refuse a lane that exists), no setup (it was set up),
 * and the port its record keeps.
 */
export function recordedLaneSettings(ctx: RuntimeContext, record: LaneRecord): LaneSettings {
  const template = record.template ?? undefined;
  const known = template !== undefined && Object.hasOwn(ctx.config.templates ?? {}, template);
  const plan = planLane(ctx.config, { setup: false, ...(known ? { template } : {}) });
  return laneSettingsOf(ctx, plan, { laneId: record.laneId, label: record.label, port: record.port ?? null });
}
