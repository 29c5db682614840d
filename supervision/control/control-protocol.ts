import { join } from 'node:path';
import { z } from 'zod';
import { localSocketOf } from '../../actors/pty/host/host-paths.js';

/**
 * The control socket's messages: JSON in the terminal host's CONTROL frames. A client says
 * `hello` with the token first; then each `request` names a control command and is answered by
 * one `reply` with its id. An exec asked with `stream` also sends its output as `chunk`s and
 * takes `stdin` / `stdin-end` / `cancel`; a `follow` streams a PTY's output until it exits. A
 * `view` (`lanevisor attach` to a runtime whose terminals are inline) gets a PTY's `screen`, then
 * its `output` and `exit`, and takes `view-input` / `view-resize` / `view-ack` / `view-end`.
 */
export const CONTROL_TOKEN_FILE = 'control.token';
/** A connection that has not said hello with the token by then is closed. */
export const CONTROL_AUTH_TIMEOUT_MS = 2_000;
/** Frames on the control socket are small JSON; a larger one is refused and the connection closed. */
export const CONTROL_MAX_FRAME_BYTES = 4 * 1024 * 1024;

export interface ControlPaths {
  readonly socketDir: string;
  readonly socket: string;
  readonly tokenFile: string;
}

export function controlPathsOf(stateDir: string, env: NodeJS.ProcessEnv = process.env): ControlPaths {
  const { socketDir, socket } = localSocketOf(stateDir, 'control', "the runtime's control socket", env);
  return { socketDir, socket, tokenFile: join(stateDir, CONTROL_TOKEN_FILE) };
}

const requestId = z.number().int().nonnegative();

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), token: z.string() }),
  z.object({
    type: z.literal('request'),
    id: requestId,
    method: z.string(),
    payload: z.unknown(),
    stream: z.boolean().optional(),
  }),
  z.object({ type: z.literal('stdin'), id: requestId, data: z.string() }),
  z.object({ type: z.literal('stdin-end'), id: requestId }),
  z.object({ type: z.literal('cancel'), id: requestId }),
  z.object({ type: z.literal('follow'), id: requestId, ptyId: z.string(), fromStart: z.boolean().optional() }),
  z.object({
    type: z.literal('view'),
    id: requestId,
    ptyId: z.string(),
    readOnly: z.boolean().optional(),
    cols: z.number().int().positive().optional(),
    rows: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal('view-input'), id: requestId, data: z.string() }),
  z.object({ type: z.literal('view-resize'), id: requestId, cols: z.number().int(), rows: z.number().int() }),
  z.object({ type: z.literal('view-ack'), id: requestId, chars: z.number().int().nonnegative() }),
  z.object({ type: z.literal('view-end'), id: requestId }),
]);
export type ControlClientMessage = z.infer<typeof clientMessageSchema>;

/** A failed request's answer: a LanevisorError as it serializes (`toJSON`). */
export interface ControlErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

export type ControlServerMessage =
  | { readonly type: 'welcome'; readonly runtimeId: string; readonly pid: number }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly result: unknown }
  | {
      readonly type: 'reply';
      readonly id: number;
      readonly ok: false;
      readonly error: ControlErrorBody;
    }
  | { readonly type: 'chunk'; readonly id: number; readonly stream: 'stdout' | 'stderr'; readonly data: string }
  | { readonly type: 'output'; readonly id: number; readonly data: string }
  | {
      readonly type: 'screen';
      readonly id: number;
      readonly data: string;
      readonly cols: number;
      readonly rows: number;
    }
  /** Something a view's viewer sent could not be carried out (input past the bound); the view goes on. */
  | { readonly type: 'notice'; readonly id: number; readonly error: ControlErrorBody }
  | { readonly type: 'exit'; readonly id: number; readonly exitCode: number | null; readonly signal: string | null };
