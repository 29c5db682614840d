import { LanevisorError } from '../../bus/errors.js';

/** A lane by id or label, among a runtime's lanes, a live runtime's list or the records; NOT_FOUND naming the ones there are. */
export function findLane<L extends { readonly id: string; readonly label: string | null }>(
  lanes: readonly L[],
  idOrLabel: string,
): L {
  const lane = lanes.find((l) => l.id === idOrLabel || l.label === idOrLabel);
  if (lane) return lane;
  const known = lanes.map((l) => l.label ?? l.id).sort();
  throw new LanevisorError(
    'NOT_FOUND',
    `no lane ${JSON.stringify(idOrLabel)}; ${known.length === 0 ? 'there are none' : `known: ${known.join(', ')}`} (lanevisor ls)`,
  );
}
