import { resolveRepository } from '../../actors/git/repository.js';
import { type Attached, HostViewer, type ViewerEvents } from '../../actors/pty/host/host-viewer.js';
import { LanevisorError } from '../../bus/errors.js';
import { connectRuntime, type RuntimeConnection } from '../control/control-client.js';
import type { LaneView } from '../control/views.js';
import { findLane } from '../lane/find-lane.js';
import { metaOf } from '../pty/pty-adoption.js';
import { LaneRecordStore } from '../state/lane-records.js';
import { stateDirOf } from './runtime-setup.js';

/**
 * `lanevisor attach`: a lane's terminal reached through the state directory's terminal host,
 * whether a runtime holds the repository (in this process or another) or none is alive (while
 * the host lingers), or, when the live runtime keeps its terminals inline, through that runtime's
 * control socket. The lane is named by label or id, the PTY by id (default: the lane's first).
 */
export type { ViewerEvents };

export interface AttachOptions {
  readonly repo: string;
  readonly stateDir?: string;
  /** A label or a lane id. */
  readonly lane: string;
  /** A PTY id; default the lane's first PTY. */
  readonly pty?: string;
  /** See the output, never type into it or resize it. */
  readonly readOnly?: boolean;
  /** The viewer's size: the PTY takes it (the most recent attach or resize wins), unless read-only. */
  readonly cols?: number;
  readonly rows?: number;
}

export interface TerminalAttachment extends Attached {
  readonly laneId: string;
  readonly label: string | null;
  readonly ptyId: string;
}

export async function attachTerminal(options: AttachOptions, events: ViewerEvents): Promise<TerminalAttachment> {
  const repository = await resolveRepository(options.repo);
  const stateDir = stateDirOf(repository, options.stateDir);
  const live = await connectRuntime({ repo: options.repo, stateDir });
  if (live !== null) {
    const info = (await live.request('runtime.info').catch(() => undefined)) as { ptyHost?: unknown } | undefined;
    // No terminal host serves it: its terminals are inline, in its own process.
    if (info !== undefined && info.ptyHost === null) return attachThroughRuntime(live, options, events);
    live.close();
  }
  const { records } = await new LaneRecordStore(stateDir).list();
  const { record } = findLane(
    records.map((r) => ({ id: r.laneId, label: r.label, record: r })),
    options.lane,
  );
  const viewer = await HostViewer.connect(stateDir);
  try {
    const ptys = (await viewer.list()).filter((info) => info.exit === null && metaOf(info)?.laneId === record.laneId);
    const name = record.label ?? record.laneId;
    const chosen = options.pty === undefined ? ptys[0] : ptys.find((info) => info.ptyId === options.pty);
    if (chosen === undefined) {
      const which = options.pty === undefined ? 'no running PTY' : `no running PTY ${options.pty}`;
      const has = ptys.length === 0 ? '' : `; it has ${ptys.map((info) => info.ptyId).join(', ')}`;
      throw new LanevisorError('NOT_FOUND', `lane ${name} has ${which} in the terminal host${has}`);
    }
    const attached = await viewer.attach(
      chosen.ptyId,
      {
        readOnly: options.readOnly === true,
        ...(options.cols === undefined || options.rows === undefined ? {} : { cols: options.cols, rows: options.rows }),
      },
      events,
    );
    return { ...attached, laneId: record.laneId, label: record.label, ptyId: chosen.ptyId };
  } catch (error) {
    await viewer.close();
    throw error;
  }
}

/** A lane of a live runtime, its PTY and a view of it through that runtime's connection (its control socket, or NATS). */
export async function attachThroughRuntime(
  live: RuntimeConnection,
  options: AttachOptions,
  events: ViewerEvents,
): Promise<TerminalAttachment> {
  try {
    const lane = findLane((await live.request('lane.list')) as LaneView[], options.lane);
    const running = lane.ptys.filter((info) => info.state === 'active' || info.state === 'throttled');
    const chosen = options.pty === undefined ? running[0] : running.find((info) => info.id === options.pty);
    if (chosen === undefined) {
      const which = options.pty === undefined ? 'no running PTY' : `no running PTY ${options.pty}`;
      const has = running.length === 0 ? '' : `; it has ${running.map((info) => info.id).join(', ')}`;
      throw new LanevisorError('NOT_FOUND', `lane ${lane.label ?? lane.id} has ${which}${has}`);
    }
    const attached = await live.view(
      chosen.id,
      {
        readOnly: options.readOnly === true,
        ...(options.cols === undefined || options.rows === undefined ? {} : { cols: options.cols, rows: options.rows }),
      },
      events,
    );
    const detach = async () => {
      await attached.detach();
      live.close();
    };
    return { ...attached, detach, laneId: lane.id, label: lane.label, ptyId: chosen.id };
  } catch (error) {
    live.close();
    throw error;
  }
}
