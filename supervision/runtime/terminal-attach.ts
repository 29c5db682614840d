import { resolveRepository } from '../../actors/git/repository.js';
import { type Attached, HostViewer, type ViewerEvents } from '../../actors/pty/host/host-viewer.js';
import { LanevisorError } from '../../bus/errors.js';
import { metaOf } from '../pty/pty-adoption.js';
import { LaneRecordStore } from '../state/lane-records.js';
import { stateDirOf } from './runtime-setup.js';

/**
 * `lanevisor attach`: a lane's terminal reached through the state directory's terminal host,
 * whether a runtime holds the repository (in this process or another) or none is alive (while
 * the host lingers). The lane is named by label or id, the PTY by id (default: the lane's first).
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
  const { records } = await new LaneRecordStore(stateDir).list();
  const record = records.find((r) => r.laneId === options.lane || r.label === options.lane);
  if (record === undefined) {
    const known = records.map((r) => r.label ?? r.laneId).sort();
    throw new LanevisorError(
      'NOT_FOUND',
      `no lane ${JSON.stringify(options.lane)}; ${known.length === 0 ? 'there are none' : `known: ${known.join(', ')}`} (lanevisor ls)`,
    );
  }
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
