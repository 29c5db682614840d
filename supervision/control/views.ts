import { z } from 'zod';
import type { Lane } from '../lane/types.js';
import type { Pty } from '../pty/types.js';
import { LAST_LINE_WINDOW_CHARS, lastLineOf } from './last-line.js';

/**
 * What the control API says of lanes and PTYs: plain JSON, the same on every transport (the
 * bus, the control socket, HTTP). The schemas describe the answers for the OpenAPI document;
 * the functions make them from the live handles.
 */
export const ptyInfoSchema = z.object({
  id: z.string(),
  laneId: z.string(),
  name: z.string(),
  pid: z.number().int(),
  state: z.string(),
  cols: z.number().int(),
  rows: z.number().int(),
  restart: z.enum(['permanent', 'transient', 'temporary']),
  restarts: z.number().int(),
  activity: z.enum(['working', 'waiting', 'idle']).nullable(),
  /** The last line of text it printed (escapes removed), null before any. */
  lastLine: z.string().nullable(),
});
export type PtyInfo = z.infer<typeof ptyInfoSchema>;

export const laneViewSchema = z.object({
  id: z.string(),
  label: z.string().nullable(),
  state: z.string(),
  branch: z.string(),
  baseRef: z.string(),
  worktreePath: z.string(),
  /** Its LANEVISOR_PORT (lanevisor.json's `ports`), else null. */
  port: z.number().int().nullable(),
  /** When it was made (epoch ms). */
  createdAt: z.number().int(),
  agents: z.array(z.string()),
  /** Why it is blocked, null while it is not. */
  blockReason: z.string().nullable(),
  /** Shared (`share()`: it may hold several agents), also while blocked or running, when `state` says that instead. */
  shared: z.boolean(),
  ptys: z.array(ptyInfoSchema),
});
export type LaneView = z.infer<typeof laneViewSchema>;

export function ptyInfoOf(pty: Pty): PtyInfo {
  return {
    id: pty.id,
    laneId: pty.laneId,
    name: pty.name,
    pid: pty.pid,
    state: pty.state,
    cols: pty.cols,
    rows: pty.rows,
    restart: pty.restart,
    restarts: pty.restarts,
    activity: pty.activity,
    lastLine: lastLineOf(pty.scrollback({ lastChars: LAST_LINE_WINDOW_CHARS })),
  };
}

export function laneViewOf(lane: Lane): LaneView {
  return {
    id: lane.id,
    label: lane.label,
    state: lane.state,
    branch: lane.branch,
    baseRef: lane.baseRef,
    worktreePath: lane.worktreePath,
    port: lane.port,
    createdAt: lane.createdAt,
    agents: [...lane.agents],
    blockReason: lane.blockReason,
    shared: lane.shared,
    ptys: lane.ptys().map(ptyInfoOf),
  };
}
