import { useEffect, useRef, useState } from 'preact/hooks';
import { api, messageOf } from './api.js';
import { ConflictsPanel } from './components/conflicts-panel.js';
import { LaneList } from './components/lane-list.js';
import { LanePanel } from './components/lane-panel.js';
import { NewLaneForm } from './components/new-lane-form.js';
import { TIMELINE_MAX_EVENTS, Timeline } from './components/timeline.js';
import { createEventFeed } from './event-feed.js';
import type { Connection } from './event-stream.js';
import type { BusEvent, CleanupReport, LaneView, RuntimeInfo } from './types.js';

/** Events come in bursts (a lane's creation is several): the lane list is fetched once per burst. */
export const LANES_REFRESH_DEBOUNCE_MS = 100;
/** While a terminal is working its last line changes without an event: the list is refreshed this often. */
export const WORKING_REFRESH_MS = 2_000;
/** Events are added to the timeline in batches (a resumed stream brings thousands at once). */
export const TIMELINE_FLUSH_MS = 50;
/** Ages in the list tick this often. */
export const CLOCK_TICK_MS = 10_000;

type View = 'lanes' | 'conflicts' | 'events';

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'disconnected: reconnecting…',
  unauthorized: 'not authorized',
};

export function App({ authorized }: { authorized: boolean }) {
  if (!authorized) return <NotAuthorized />;
  return <Dashboard />;
}

function NotAuthorized() {
  return (
    <main class="not-authorized">
      <h1>lanevisor: not authorized</h1>
      <p role="alert">
        This page needs the server's token. Open the address <code>lanevisor serve</code> printed (it ends in{' '}
        <code>?token=…</code>), or ask whoever started the server for it.
      </p>
    </main>
  );
}

function Dashboard() {
  const [runtime, setRuntime] = useState<RuntimeInfo | null>(null);
  const [lanes, setLanes] = useState<readonly LaneView[]>([]);
  const [events, setEvents] = useState<readonly BusEvent[]>([]);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [selected, setSelected] = useState<string | null>(null);
  const [view, setView] = useState<View>('lanes');
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const refreshTimer = useRef<number | undefined>(undefined);

  const refresh = async () => {
    try {
      const [info, list] = await Promise.all([api.runtime(), api.lanes()]);
      setRuntime(info);
      setLanes(list);
      setFailure(null);
    } catch (error) {
      setFailure(messageOf(error));
    }
  };
  const scheduleRefresh = () => {
    window.clearTimeout(refreshTimer.current);
    refreshTimer.current = window.setTimeout(() => void refresh(), LANES_REFRESH_DEBOUNCE_MS);
  };

  useEffect(() => {
    let pending: BusEvent[] = [];
    let flush: number | undefined;
    const stream = createEventFeed({
      event: (event) => {
        pending.push(event);
        flush ??= window.setTimeout(() => {
          const arrived = pending.reverse();
          pending = [];
          flush = undefined;
          setEvents((held) => [...arrived, ...held].slice(0, TIMELINE_MAX_EVENTS));
        }, TIMELINE_FLUSH_MS);
        if (event.topic.startsWith('lane.') || event.topic.startsWith('pty.')) scheduleRefresh();
      },
      resync: () => void refresh(),
      connection: setConnection,
    });
    stream.open();
    const clock = window.setInterval(() => setNow(Date.now()), CLOCK_TICK_MS);
    return () => {
      stream.close();
      window.clearTimeout(flush);
      window.clearInterval(clock);
      window.clearTimeout(refreshTimer.current);
    };
  }, []);

  const working = lanes.some((lane) => lane.ptys.some((pty) => pty.activity === 'working'));
  // Other runtimes' lanes change without an event on this server's stream: asked for as often.
  const runtimes = runtime?.runtimes ?? [];
  const polled = working || runtimes.length > 1;
  useEffect(() => {
    if (!polled || connection !== 'live') return;
    const timer = window.setInterval(() => void refresh(), WORKING_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [polled, connection]);

  const lane = lanes.find((one) => one.id === selected) ?? null;
  return (
    <div class="dashboard">
      <header class="top">
        <h1>lanevisor</h1>
        {runtime !== null && <span class="repo">{runtime.repo}</span>}
        <span class={`connection connection-${connection}`} role="status" aria-live="polite">
          {CONNECTION_TEXT[connection]}
        </span>
        <nav aria-label="Views">
          {(['lanes', 'conflicts', 'events'] as const).map((one) => (
            <button type="button" key={one} aria-pressed={view === one} onClick={() => setView(one)}>
              {one}
            </button>
          ))}
        </nav>
      </header>
      {notice !== null && (
        <div class="notice" role="status">
          {notice}{' '}
          <button type="button" onClick={() => setNotice(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      {failure !== null && connection === 'live' && (
        <p class="error" role="alert">
          {failure}
        </p>
      )}
      <div class="body">
        <aside class="side">
          <NewLaneForm
            runtimes={runtimes}
            onCreated={(laneId) => {
              setSelected(laneId);
              setView('lanes');
              void refresh();
            }}
          />
          <LaneList
            lanes={lanes}
            selected={selected}
            now={now}
            onSelect={(laneId) => {
              setSelected(laneId);
              setView('lanes');
            }}
          />
        </aside>
        <main class="main">
          {view === 'lanes' &&
            (lane === null ? (
              <p class="empty">Choose a lane, or make a new one.</p>
            ) : (
              <LanePanel
                key={lane.id}
                lane={lane}
                onCleaned={(report, name) => {
                  setSelected(null);
                  setNotice(cleanupNotice(report, name));
                  void refresh();
                }}
              />
            ))}
          {view === 'conflicts' && <ConflictsPanel lanes={lanes} />}
          {view === 'events' && <Timeline events={events} />}
        </main>
      </div>
    </div>
  );
}

/** What a cleanup kept, in words: the salvage ref of uncommitted work, the kept branch of committed work. */
function cleanupNotice(report: CleanupReport, name: string): string {
  const kept = [
    ...(report.salvagedRef === null ? [] : [`its uncommitted work is kept at ${report.salvagedRef}`]),
    ...(report.branchKept ? [`its commits stay on ${report.branch}`] : []),
  ];
  return kept.length === 0
    ? `Lane ${name} cleaned up; it held no work to keep.`
    : `Lane ${name} cleaned up; ${kept.join(' and ')}.`;
}
