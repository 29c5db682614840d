import type { LaneView } from '../types.js';

/** Why a lane is blocked, in words beside its state; nothing while it is not. */
export function BlockReason({ lane }: { lane: LaneView }) {
  if (lane.state !== 'blocked' || !lane.blockReason) return null;
  return <span class="block-reason">{lane.blockReason}</span>;
}
