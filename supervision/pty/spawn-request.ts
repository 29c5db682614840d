import { homedir } from 'node:os';
import { z } from 'zod';
import type { PtySpawnRequest } from '../../actors/pty/backend.js';
import type { LaneId, PtyId, RuntimeId } from '../../bus/ids.js';
import { parseOrThrow } from '../../bus/validation.js';
import type { RestartType, SpawnPtyOptions } from './types.js';

/** setsid/ioctl accept far more, but no real terminal is larger. */
export const MAX_TERMINAL_DIMENSION = 10_000;
export const DEFAULT_COLS = 80;
export const DEFAULT_ROWS = 24;
export const DEFAULT_TERMINAL_NAME = 'xterm-256color';
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const LANE_ID_VARIABLE = 'LANEVISOR_LANE_ID';
export const PTY_ID_VARIABLE = 'LANEVISOR_PTY_ID';
export const RUNTIME_ID_VARIABLE = 'LANEVISOR_RUNTIME_ID';

/** Variables of the orchestrator's own terminal that would mislead a program in a new one. */
const TERMINAL_SPECIFIC_VARIABLES = ['TMUX', 'TMUX_PANE', 'STY', 'WINDOW', 'WINDOWID', 'TERMCAP', 'COLUMNS', 'LINES'];

export const dimensionSchema = z.number().int().min(1).max(MAX_TERMINAL_DIMENSION);
const envNameSchema = z
  .string()
  .regex(/^[^=\0]+$/, 'an environment variable name must be non-empty, without "=" or NUL');
const envValueSchema = z.string().regex(/^[^\0]*$/, 'an environment value cannot hold NUL');
const idLikeSchema = z.string().min(1).max(128);

const spawnOptionsSchema = z.strictObject({
  command: z
    .string()
    .min(1)
    .regex(/^[^\0]+$/)
    .optional(),
  args: z.array(z.string().regex(/^[^\0]*$/)).optional(),
  cols: dimensionSchema.optional(),
  rows: dimensionSchema.optional(),
  env: z.record(envNameSchema, envValueSchema).optional(),
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._+-]+$/)
    .optional(),
  sessionId: idLikeSchema.optional(),
  terminalId: idLikeSchema.optional(),
  restart: z.enum(['permanent', 'transient', 'temporary']).optional(),
});

export interface PtyIdentity {
  readonly ptyId: PtyId;
  readonly laneId: LaneId;
  readonly runtimeId: RuntimeId;
  readonly cwd: string;
}

export interface ResolvedSpawn {
  readonly request: PtySpawnRequest;
  readonly name: string;
  readonly sessionId: string | null;
  readonly terminalId: string | null;
  readonly restart: RestartType;
}

/** Validates `spawnPty` options (INVALID_ARGUMENT naming the field) and builds the backend request. */
export function resolveSpawn(options: SpawnPtyOptions | undefined, identity: PtyIdentity): ResolvedSpawn {
  const parsed = parseOrThrow(spawnOptionsSchema, options ?? {}, 'options', 'INVALID_ARGUMENT');
  const name = parsed.name ?? DEFAULT_TERMINAL_NAME;
  const env = buildEnvironment(parsed.env ?? {}, name, identity);
  return {
    request: {
      file: parsed.command ?? defaultShell(),
      args: parsed.args ?? [],
      cwd: identity.cwd,
      env,
      cols: parsed.cols ?? DEFAULT_COLS,
      rows: parsed.rows ?? DEFAULT_ROWS,
    },
    name,
    sessionId: parsed.sessionId ?? null,
    terminalId: parsed.terminalId ?? null,
    restart: parsed.restart ?? 'temporary',
  };
}

/**
 * The orchestrator's environment without variables of its own terminal, PATH and HOME always
 * present, the caller's variables over it, and the tag variables over everything: they are how
 * lanevisor finds its processes again, so nobody may override them.
 */
export function buildEnvironment(
  overrides: Readonly<Record<string, string>>,
  terminalName: string,
  identity: PtyIdentity,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !TERMINAL_SPECIFIC_VARIABLES.includes(key)) env[key] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME ??= homedir();
  Object.assign(env, { TERM: terminalName, PWD: identity.cwd }, overrides);
  env[LANE_ID_VARIABLE] = identity.laneId;
  env[PTY_ID_VARIABLE] = identity.ptyId;
  env[RUNTIME_ID_VARIABLE] = identity.runtimeId;
  return env;
}

/** The user's shell: $SHELL when set, else bash, which the process actor resolves on PATH. */
function defaultShell(): string {
  return process.env.SHELL && process.env.SHELL.length > 0 ? process.env.SHELL : 'bash';
}
