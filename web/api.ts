import type {
  CleanupReport,
  Conflict,
  ExecResult,
  LaneDiff,
  LaneView,
  PtyInfo,
  RestartType,
  RuntimeInfo,
} from './types.js';

/** What the API answered instead of a result: its error code and message (docs/api.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The page's one way to the server: same origin, the cookie `/?token=` set, JSON both ways. */
async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'UNAVAILABLE', 'the server does not answer (stopped or restarting)');
  }
  const text = await response.text();
  const value: unknown = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const error = (value as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? 'INTERNAL_ERROR', error?.message ?? response.statusText);
  }
  return value as T;
}

const lanePath = (laneId: string) => `/api/lanes/${encodeURIComponent(laneId)}`;

export const api = {
  runtime: () => call<RuntimeInfo>('GET', '/api/runtime'),
  lanes: () => call<LaneView[]>('GET', '/api/lanes'),
  createLane: (options: { label?: string; baseRef?: string; template?: string; runtimeId?: string }) =>
    call<LaneView>('POST', '/api/lanes', options),
  cleanup: (laneId: string, discard: boolean) =>
    call<CleanupReport>('POST', `${lanePath(laneId)}/cleanup`, discard ? { discard } : {}),
  spawn: (laneId: string, options: { command?: string; args?: string[]; name?: string; restart?: RestartType }) =>
    call<PtyInfo>('POST', `${lanePath(laneId)}/ptys`, options),
  exec: (laneId: string, argv: string[]) => call<ExecResult>('POST', `${lanePath(laneId)}/exec`, { argv }),
  share: (laneId: string) => call<LaneView>('POST', `${lanePath(laneId)}/share`, {}),
  attach: (laneId: string, agentId: string) => call<LaneView>('POST', `${lanePath(laneId)}/agents`, { agentId }),
  detach: (laneId: string, agentId: string) =>
    call<LaneView>('POST', `${lanePath(laneId)}/agents/${encodeURIComponent(agentId)}/detach`, {}),
  block: (laneId: string, reason: string) => call<LaneView>('POST', `${lanePath(laneId)}/block`, { reason }),
  unblock: (laneId: string) => call<LaneView>('POST', `${lanePath(laneId)}/unblock`, {}),
  diff: (laneId: string, base?: string) =>
    call<LaneDiff>('GET', `${lanePath(laneId)}/diff${base === undefined ? '' : `?base=${encodeURIComponent(base)}`}`),
  /** What the lane's worktree holds that is not in its last commit (a merge leaves it, a cleanup salvages it). */
  uncommitted: (lane: Pick<LaneView, 'id' | 'branch'>) => api.diff(lane.id, `refs/heads/${lane.branch}`),
  commit: (laneId: string, message: string) =>
    call<{ commit: string | null }>('POST', `${lanePath(laneId)}/commit`, { message }),
  merge: (laneId: string) =>
    call<{ commit: string; into: string; uncommitted?: boolean }>('POST', `${lanePath(laneId)}/merge`, {}),
  conflicts: () => call<Conflict[]>('GET', '/api/conflicts'),
  terminate: (ptyId: string) => call<unknown>('POST', `/api/ptys/${encodeURIComponent(ptyId)}/terminate`, {}),
};

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
