import { z } from 'zod';
import { CONTROL_COMMANDS, ERROR_CODES } from '../index.js';

/**
 * The request and response schemas of the HTTP API: request bodies are the control commands' own
 * input schemas (minus what the path carries), so the OpenAPI document says exactly what the
 * commands accept.
 */
export const errorSchema = z.object({
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }),
});

/** Whose a lane is, when the server shows several runtimes (`serve --nats`). */
export const runtimeRefSchema = z.object({ id: z.string(), host: z.string(), repo: z.string() });

export const runtimeInfoSchema = z.object({
  id: z.string(),
  pid: z.number().int(),
  repo: z.string(),
  stateDir: z.string(),
  ptyHost: z.object({ pid: z.number().int() }).nullable(),
  /** With `serve --nats`: this runtime first, then every other that answers. */
  runtimes: z.array(runtimeRefSchema).optional(),
});

export const execResultSchema = z.looseObject({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  durationMs: z.number(),
  timedOut: z.boolean(),
});

export const terminateResultSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  escalated: z.boolean(),
});

/** What `lane.cleanup` reports (see CleanupReport in the package's types). */
export const cleanupReportSchema = z.looseObject({}).describe('CleanupReport');

export const diffSchema = z.looseObject({
  base: z.string(),
  files: z.array(
    z.looseObject({
      path: z.string(),
      status: z.string(),
      additions: z.number().int().nullable(),
      deletions: z.number().int().nullable(),
    }),
  ),
  patch: z.string(),
});
export const commitResultSchema = z.object({ commit: z.string().nullable() });
export const mergeResultSchema = z.looseObject({
  commit: z.string(),
  into: z.string(),
  /** Without `clean`: the lane's worktree still holds uncommitted or untracked work, which was not merged. */
  uncommitted: z.boolean().optional(),
});
export const conflictsSchema = z.array(z.object({ lanes: z.array(z.string()), files: z.array(z.string()) }));

export const createLaneBodySchema = CONTROL_COMMANDS['lane.create'].input.extend({
  /** With `serve --nats`: the runtime to create it on (default this one). */
  runtimeId: z.string().min(1).max(128).optional(),
});
export const cleanupBodySchema = CONTROL_COMMANDS['lane.cleanup'].input.omit({ laneId: true });
export const execBodySchema = CONTROL_COMMANDS['lane.exec'].input.omit({ laneId: true });
export const spawnBodySchema = CONTROL_COMMANDS['pty.spawn'].input.shape.options.unwrap();
export const terminateBodySchema = CONTROL_COMMANDS['pty.terminate'].input.omit({ ptyId: true });

export const attachBodySchema = CONTROL_COMMANDS['lane.attach'].input.omit({ laneId: true });
export const blockBodySchema = CONTROL_COMMANDS['lane.block'].input.omit({ laneId: true });

export const commitBodySchema = CONTROL_COMMANDS['lane.commit'].input.omit({ laneId: true });
export const mergeBodySchema = CONTROL_COMMANDS['lane.merge'].input.omit({ laneId: true });

export const eventsQuerySchema = z.object({
  topic: z.string().optional().describe('a bus pattern: an exact topic, `prefix.*` or `**`'),
  lastEventId: z.string().optional().describe('resume after this event id (as the Last-Event-ID header)'),
});
