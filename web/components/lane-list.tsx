import { useState } from 'preact/hooks';
import { activityOf, ageOf, laneName, lastLineOf, runtimeName, stateClass } from '../format.js';
import type { LaneView } from '../types.js';
import { BlockReason } from './block-reason.js';

type SortKey = 'created' | 'label' | 'state';

const SORTS: Record<SortKey, (a: LaneView, b: LaneView) => number> = {
  created: (a, b) => a.createdAt - b.createdAt,
  label: (a, b) => laneName(a).localeCompare(laneName(b)),
  state: (a, b) => a.state.localeCompare(b.state) || laneName(a).localeCompare(laneName(b)),
};

interface LaneListProps {
  readonly lanes: readonly LaneView[];
  readonly selected: string | null;
  readonly now: number;
  onSelect(laneId: string): void;
}

/** The lanes as a listbox: arrow keys move between them, Enter or a click opens one. */
export function LaneList({ lanes, selected, now, onSelect }: LaneListProps) {
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<SortKey>('created');
  const needle = filter.trim().toLowerCase();
  // With several runtimes (serve --nats) the lanes are grouped by runtime, in the server's order.
  const groupOf = new Map<string, number>();
  for (const lane of lanes)
    if (lane.runtime !== undefined && !groupOf.has(lane.runtime.id)) groupOf.set(lane.runtime.id, groupOf.size);
  const group = (lane: LaneView) => (lane.runtime === undefined ? 0 : (groupOf.get(lane.runtime.id) ?? 0));
  const shown = lanes
    .filter((lane) => needle === '' || `${laneName(lane)} ${lane.branch} ${lane.state}`.toLowerCase().includes(needle))
    .sort((a, b) => group(a) - group(b) || SORTS[sort](a, b));
  const grouped = groupOf.size > 1;

  const onKeyDown = (event: KeyboardEvent) => {
    const index = shown.findIndex((lane) => lane.id === selected);
    const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0;
    if (step === 0 || shown.length === 0) return;
    event.preventDefault();
    const next = shown[Math.min(shown.length - 1, Math.max(0, index + step))];
    if (next !== undefined) {
      onSelect(next.id);
      document.getElementById(`lane-${next.id}`)?.focus();
    }
  };

  return (
    <section class="lane-list" aria-label="Lanes">
      <div class="list-tools">
        <input
          type="search"
          placeholder="Filter lanes"
          aria-label="Filter lanes"
          value={filter}
          onInput={(event) => setFilter(event.currentTarget.value)}
        />
        <label>
          Sort{' '}
          <select value={sort} onChange={(event) => setSort(event.currentTarget.value as SortKey)}>
            <option value="created">age</option>
            <option value="label">label</option>
            <option value="state">state</option>
          </select>
        </label>
      </div>
      <div role="listbox" aria-label="Lanes" onKeyDown={onKeyDown}>
        {shown.map((lane, index) => {
          const activity = activityOf(lane);
          const heading =
            grouped && lane.runtime !== undefined && (index === 0 || shown[index - 1]?.runtime?.id !== lane.runtime.id);
          return [
            heading && (
              <div
                key={`runtime-${lane.runtime?.id}`}
                class="runtime-heading"
                role="presentation"
                data-runtime={lane.runtime?.id}
              >
                {runtimeName(lane.runtime as { host: string; repo: string })}
              </div>
            ),
            <div
              key={lane.id}
              id={`lane-${lane.id}`}
              role="option"
              tabIndex={lane.id === selected || (selected === null && lane === shown[0]) ? 0 : -1}
              aria-selected={lane.id === selected}
              class="lane-row"
              data-lane={lane.id}
              onClick={() => onSelect(lane.id)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' || event.key === ' ') onSelect(lane.id);
              }}
            >
              <div class="lane-row-head">
                <strong class="lane-label">{laneName(lane)}</strong>
                <span class={stateClass(lane.state)}>{lane.state}</span>
                {activity !== null && <span class={`activity activity-${activity}`}>{activity}</span>}
              </div>
              <div class="lane-row-meta">
                <span>{lane.branch}</span>
                <span>{lane.ptys.length === 1 ? '1 terminal' : `${lane.ptys.length} terminals`}</span>
                {lane.agents.length > 0 && <span>agents: {lane.agents.join(', ')}</span>}
                <BlockReason lane={lane} />
                <span title={new Date(lane.createdAt).toLocaleString()}>{ageOf(lane.createdAt, now)} old</span>
              </div>
              <div class="lane-row-line">{lastLineOf(lane)}</div>
            </div>,
          ];
        })}
      </div>
      {shown.length === 0 && <p class="empty">{lanes.length === 0 ? 'No lanes yet.' : 'No lane matches.'}</p>}
    </section>
  );
}
