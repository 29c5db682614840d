import type { LaneView } from '../types.js';

/** Why a lane is blocked, in words beside its state; nothing while it is not (the API says null then). */
export function BlockReason({ lane }: { lane: LaneView }) {
  if (!lane.blockReason) return null;
  return <span class="block-reason">{lane.blockReason}</span>;
}
