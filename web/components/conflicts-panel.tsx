import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { laneName } from '../format.js';
import type { Conflict, LaneView } from '../types.js';
import { ErrorText, useAction } from './use-action.js';

/** The second member of a conflict with the tip of the lane's own base (`rt.conflicts()`). */
const BASE = 'base';

/** Which lanes' committed work collides, lane by lane, with the files (from `GET /api/conflicts`). */
export function ConflictsPanel({ lanes }: { lanes: readonly LaneView[] }) {
  const [conflicts, setConflicts] = useState<readonly Conflict[] | null>(null);
  const action = useAction();
  const load = () => action.run(async () => setConflicts(await api.conflicts()));
  useEffect(() => void load(), []);
  const nameOf = (id: string) => {
    const lane = lanes.find((one) => one.id === id);
    return lane === undefined ? id : laneName(lane);
  };
  const filesBetween = (a: string, b: string) =>
    conflicts?.find((one) => one.lanes.includes(a) && one.lanes.includes(b) && a !== b)?.files ?? null;

  return (
    <section class="conflicts-panel" aria-label="Conflicts">
      <h2>Conflicts between lanes</h2>
      <button type="button" onClick={() => void load()} disabled={action.busy}>
        {action.busy ? 'Checking…' : 'Check again'}
      </button>
      <ErrorText error={action.error} />
      {conflicts !== null && conflicts.length === 0 && (
        <p class="empty">No lane's committed work conflicts with another's.</p>
      )}
      {conflicts !== null && conflicts.length > 0 && (
        <table class="conflict-matrix">
          <thead>
            <tr>
              <th scope="col">lane</th>
              {lanes.map((lane) => (
                <th scope="col" key={lane.id}>
                  {laneName(lane)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {lanes.map((row) => (
              <tr key={row.id}>
                <th scope="row">{nameOf(row.id)}</th>
                {lanes.map((column) => {
                  const files = filesBetween(row.id, column.id);
                  return (
                    <td key={column.id} class={files === null ? '' : 'conflict'} title={files?.join('\n') ?? ''}>
                      {row.id === column.id ? '—' : files === null ? 'ok' : `conflict: ${files.join(', ')}`}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {conflicts
        ?.filter((one) => one.lanes[1] === BASE)
        .map((one) => (
          <p key={one.lanes[0]} class="conflict">
            {nameOf(one.lanes[0] as string)} conflicts with the tip of its base: {one.files.join(', ')}
          </p>
        ))}
    </section>
  );
}
