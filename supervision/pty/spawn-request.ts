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

export const spawnOptionsSchema = z.strictObject({
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
export function resolveSpawn(
  options: SpawnPtyOptions | undefined,
  identity: PtyIdentity,
  baseEnv: Readonly<Record<string, string>>,
): ResolvedSpawn {
  const parsed = parseOrThrow(spawnOptionsSchema, options ?? {}, 'options', 'INVALID_ARGUMENT');
  const name = parsed.name ?? DEFAULT_TERMINAL_NAME;
  return {
    request: {
      file: parsed.command ?? defaultShell(baseEnv),
      args: parsed.args ?? [],
      cwd: identity.cwd,
      env: buildEnvironment(baseEnv, parsed.env ?? {}, name, identity),
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
 * The environment every PTY starts from: the orchestrator's (taken once per runtime, since
 * reading process.env is slow), without the variables of its own terminal, with PATH and HOME
 * always present.
 */
export function createBaseEnvironment(source: NodeJS.ProcessEnv = process.env): Readonly<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && !TERMINAL_SPECIFIC_VARIABLES.includes(key)) env[key] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME ??= homedir();
  return env;
}

/** The base, the caller's variables over it, and the tag variables over everything: they are how lanevisor finds its processes again. */
export function buildEnvironment(
  base: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>>,
  terminalName: string,
  identity: PtyIdentity,
): Record<string, string> {
  return {
    ...base,
    TERM: terminalName,
    PWD: identity.cwd,
    ...overrides,
    [LANE_ID_VARIABLE]: identity.laneId,
    [PTY_ID_VARIABLE]: identity.ptyId,
    [RUNTIME_ID_VARIABLE]: identity.runtimeId,
  };
}

/** The user's shell: $SHELL when set, else bash, which the process actor resolves on PATH. */
function defaultShell(env: Readonly<Record<string, string>>): string {
  return env.SHELL !== undefined && env.SHELL.length > 0 ? env.SHELL : 'bash';
}
