import type { z } from 'zod';
import { type ControlMethod, laneViewSchema, ptyInfoSchema } from '../index.js';
import {
  attachBodySchema,
  blockBodySchema,
  cleanupBodySchema,
  cleanupReportSchema,
  commitBodySchema,
  commitResultSchema,
  conflictsSchema,
  createLaneBodySchema,
  diffSchema,
  execBodySchema,
  execResultSchema,
  mergeBodySchema,
  mergeResultSchema,
  runtimeInfoSchema,
  runtimeRefSchema,
  spawnBodySchema,
  terminateBodySchema,
  terminateResultSchema,
} from './schemas.js';

/**
 * The one route table: start-server registers exactly these routes and openapi.ts documents
 * exactly these, so the document cannot drift from what answers.
 */
export interface CommandRoute {
  readonly kind: 'command';
  readonly method: 'GET' | 'POST';
  /** Fastify syntax (`:laneId`). */
  readonly path: string;
  readonly summary: string;
  readonly command: ControlMethod;
  readonly status: 200 | 201;
  readonly body?: z.ZodType;
  readonly response: z.ZodType;
  /** Query parameters it reads (documented as optional strings). */
  readonly query?: readonly string[];
  /** The command's payload from the path's params, the (already object-checked) body and the query. */
  readonly payload: (
    params: Record<string, string>,
    body: Record<string, unknown>,
    query: Record<string, string | undefined>,
  ) => unknown;
  /** Keeps only the documented fields of the command's answer. */
  readonly project?: (result: unknown) => unknown;
}

export interface SpecialRoute {
  readonly kind: 'events' | 'openapi' | 'stream' | 'page' | 'asset';
  readonly method: 'GET';
  readonly path: string;
  readonly summary: string;
}

export type Route = CommandRoute | SpecialRoute;

const merged = (params: Record<string, string>, body: Record<string, unknown>) => ({ ...body, ...params });
/** `POST /api/lanes/:laneId/<tail>`: a lane action that answers with the lane as it left it. */
function laneAction(tail: string, command: ControlMethod, summary: string, body?: z.ZodType): CommandRoute {
  return {
    kind: 'command',
    method: 'POST',
    path: `/api/lanes/:laneId/${tail}`,
    summary,
    command,
    status: 200,
    ...(body === undefined ? {} : { body }),
    response: laneViewSchema,
    payload: merged,
  };
}

const paramsOnly = (params: Record<string, string>) => ({ ...params });

export const ROUTES: readonly Route[] = [
  { kind: 'page', method: 'GET', path: '/', summary: 'The dashboard page; `?token=` sets the cookie and redirects' },
  { kind: 'asset', method: 'GET', path: '/assets/:name', summary: "The dashboard's script and style sheet" },
  {
    kind: 'command',
    method: 'GET',
    path: '/api/runtime',
    summary: 'The runtime this server belongs to',
    command: 'runtime.info',
    status: 200,
    response: runtimeInfoSchema,
    payload: () => ({}),
    project: (result) => runtimeInfoSchema.parse(result),
  },
  {
    kind: 'command',
    method: 'GET',
    path: '/api/lanes',
    summary: "Every open lane with its PTYs (with `serve --nats`, every runtime's, each with its runtime)",
    command: 'lane.list',
    status: 200,
    response: laneViewSchema.extend({ runtime: runtimeRefSchema.optional() }).array(),
    payload: () => ({}),
  },
  {
    kind: 'command',
    method: 'POST',
    path: '/api/lanes',
    summary: 'Create a lane (worktree and branch)',
    command: 'lane.create',
    status: 201,
    body: createLaneBodySchema,
    response: laneViewSchema,
    payload: merged,
  },
  {
    kind: 'command',
    method: 'GET',
    path: '/api/lanes/:laneId',
    summary: 'One lane',
    command: 'lane.get',
    status: 200,
    response: laneViewSchema,
    payload: paramsOnly,
  },
  {
    kind: 'command',
    method: 'POST',
    path: '/api/lanes/:laneId/cleanup',
    summary: 'Clean a lane up (its work is salvaged unless `discard`)',
    command: 'lane.cleanup',
    status: 200,
    body: cleanupBodySchema,
    response: cleanupReportSchema,
    payload: merged,
  },
  {
    kind: 'command',
    method: 'POST',
    path: '/api/lanes/:laneId/ptys',
    summary: 'Start a PTY in a lane (the spawnPty options)',
    command: 'pty.spawn',
    status: 201,
    body: spawnBodySchema,
    response: ptyInfoSchema,
    payload: (params, body) => ({ ...params, options: body }),
  },
  {
    kind: 'command',
    method: 'POST',
    path: '/api/lanes/:laneId/exec',
    summary: "Run a command in a lane's worktree and wait for it",
    command: 'lane.exec',
    status: 200,
    body: execBodySchema,
    response: execResultSchema,
    payload: merged,
  },
  {
    kind: 'command',
    method: 'GET',
    path: '/api/lanes/:laneId/diff',
    summary:
      "A lane's committed, uncommitted and untracked changes against its base (files and patch); `?base=` another commit",
    command: 'lane.diff',
    status: 200,
    query: ['base'],
    response: diffSchema,
    // `?base=refs/heads/<the lane's branch>`: only what is not committed yet (what a cleanup salvages).
    payload: (params, _body, query) => ({ ...params, ...(query.base === undefined ? {} : { base: query.base }) }),
  },
  {
    kind: 'command',
    method: 'POST',
    path: '/api/lanes/:laneId/commit',
    summary: "Commit everything in a lane's worktree",
    command: 'lane.commit',
    status: 200,
    body: commitBodySchema,
    response: commitResultSchema,
    payload: merged,
  },
  {
    kind: 'command',
    method: 'POST',
    path: '/api/lanes/:laneId/merge',
    summary: "Merge a lane's committed work into a branch (409 CONFLICT changes nothing); `clean` cleans it up after",
    command: 'lane.merge',
    status: 200,
    body: mergeBodySchema,
    response: mergeResultSchema,
    payload: merged,
  },
  laneAction('share', 'lane.share', 'Share a lane: it may hold several agents from now on'),
  laneAction('agents', 'lane.attach', 'Attach an agent to a lane (a second one needs a shared lane)', attachBodySchema),
  laneAction('agents/:agentId/detach', 'lane.detach', 'Detach an agent (the last one leaves a shared lane `ready`)'),
  laneAction('block', 'lane.block', 'Block a lane, with the reason', blockBodySchema),
  laneAction('unblock', 'lane.unblock', 'Unblock a lane'),
  {
    kind: 'command',
    method: 'GET',
    path: '/api/conflicts',
    summary: "Which open lanes' committed work conflicts with each other or with their base's tip",
    command: 'runtime.conflicts',
    status: 200,
    response: conflictsSchema,
    payload: () => ({}),
  },
  {
    kind: 'command',
    method: 'POST',
    path: '/api/ptys/:ptyId/terminate',
    summary: 'End a PTY (SIGHUP and SIGTERM, SIGKILL after the grace)',
    command: 'pty.terminate',
    status: 200,
    body: terminateBodySchema,
    response: terminateResultSchema,
    payload: merged,
  },
  { kind: 'events', method: 'GET', path: '/api/events', summary: 'Every bus event as Server-Sent Events' },
  { kind: 'openapi', method: 'GET', path: '/api/openapi.json', summary: 'This document' },
  {
    kind: 'stream',
    method: 'GET',
    path: '/api/ptys/:ptyId/stream',
    summary: 'A WebSocket: snapshot, output and exit frames; input, resize and ack frames from the client',
  },
];

/** `/api/lanes/:laneId` → `/api/lanes/{laneId}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

export function paramsOf(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1] as string);
}
