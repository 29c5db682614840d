import { useState } from 'preact/hooks';
import { laneName, stateClass } from '../format.js';
import type { CleanupReport, LaneView } from '../types.js';
import { BlockReason } from './block-reason.js';
import { CleanupDialog } from './cleanup-dialog.js';
import { DiffPanel } from './diff-panel.js';
import { AgentActions, ExecForm, NewTerminalForm } from './lane-actions.js';
import { type Tab, Tabs } from './tabs.js';
import { TerminalPanel } from './terminal-panel.js';

const CHANGES_TAB = 'changes';
const ACTIONS_TAB = 'actions';
/** A lane in these states has no work left to show or act on (its diff would be refused). */
const ENDING_STATES = new Set(['cleaning', 'closed']);

interface LanePanelProps {
  readonly lane: LaneView;
  onCleaned(report: CleanupReport, name: string): void;
}

/**
 * One lane: its terminals as tabs (only the shown one is attached), its changes and its actions.
 * Opening a lane shows its first terminal (its first tab).
 */
export function LanePanel({ lane, onCleaned }: LanePanelProps) {
  const [chosen, setChosen] = useState<string | null>(null);
  const [cleaning, setCleaning] = useState(false);
  const tabs: Tab[] = [
    // A PTY's `name` is its terminal type (TERM), not a title: tabs are numbered instead.
    ...lane.ptys.map((pty, index) => ({ id: `pty-${pty.id}`, title: `terminal ${index + 1} · ${pty.state}` })),
    { id: CHANGES_TAB, title: 'Changes' },
    { id: ACTIONS_TAB, title: 'Actions' },
  ];
  const selected = tabs.some((tab) => tab.id === chosen) ? (chosen as string) : (tabs[0] as Tab).id;
  const select = (id: string) => setChosen(id);

  return (
    <section class="lane-panel" aria-label={`Lane ${laneName(lane)}`}>
      <header class="lane-head">
        <h2>{laneName(lane)}</h2>
        <span class={stateClass(lane.state)}>{lane.state}</span>
        <BlockReason lane={lane} />
        <span>
          branch <code>{lane.branch}</code> from <code>{lane.baseRef}</code>
        </span>
        {lane.port !== null && <span>port {lane.port}</span>}
        <button type="button" class="danger" onClick={() => setCleaning(true)}>
          Clean up…
        </button>
      </header>
      {ENDING_STATES.has(lane.state) ? (
        <p class="empty" role="status">
          The lane is {lane.state === 'cleaning' ? 'being cleaned up' : 'closed'}.
        </p>
      ) : (
        <LaneBody lane={lane} tabs={tabs} selected={selected} select={select} />
      )}
      {cleaning && (
        <CleanupDialog
          lane={lane}
          onClose={() => setCleaning(false)}
          onCleaned={(report, name) => {
            setCleaning(false);
            onCleaned(report, name);
          }}
        />
      )}
    </section>
  );
}

interface LaneBodyProps {
  readonly lane: LaneView;
  readonly tabs: readonly Tab[];
  readonly selected: string;
  select(id: string): void;
}

function LaneBody({ lane, tabs, selected, select }: LaneBodyProps) {
  const pty = lane.ptys.find((one) => `pty-${one.id}` === selected);
  return (
    <>
      <NewTerminalForm lane={lane} onSpawned={(ptyId) => select(`pty-${ptyId}`)} />
      <Tabs label="Terminals and views" tabs={tabs} selected={selected} onSelect={select}>
        {pty !== undefined && <TerminalPanel key={pty.id} pty={pty} />}
        {selected === CHANGES_TAB && <DiffPanel lane={lane} />}
        {selected === ACTIONS_TAB && (
          <div class="actions-panel">
            <ExecForm lane={lane} />
            <AgentActions lane={lane} />
          </div>
        )}
      </Tabs>
    </>
  );
}
