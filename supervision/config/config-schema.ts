import { z } from 'zod';
import { ptyLimitsSchema } from '../pty/pty-factory.js';

/**
 * `lanevisor.json` at a repository's root: what every lane of that repository starts with. Strict
 * (an unknown key is a typo until proven otherwise), and every path a lane's setup reads stays in
 * the main working tree: relative, without `..`.
 */
export const CONFIG_FILE = 'lanevisor.json';
/** Placeholders `env.set` values may hold, filled per lane. */
export const ENV_PLACEHOLDERS = ['port', 'laneId', 'label'] as const;
/** A setup command's time limit when the file names none. */
export const DEFAULT_SETUP_TIMEOUT_MS = 600_000;
const MAX_SETUP_TIMEOUT_MS = 24 * 60 * 60 * 1000;

const insidePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((path) => !path.startsWith('/') && !path.startsWith('~'), 'must be relative to the main working tree')
  .refine((path) => !path.split(/[\\/]/).includes('..'), 'may not leave the main working tree ("..")')
  .refine((path) => !path.includes('\0'), 'may not hold NUL');

const command = z
  .string()
  .min(1)
  .max(64 * 1024)
  .regex(/^[^\0]*$/, 'may not hold NUL');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name (letters, digits, _)');
const envPattern = z.string().regex(/^[A-Za-z0-9_*]+$/, 'must be a variable name, or a name with * globs (AWS_*)');
const envValue = z
  .string()
  .regex(/^[^\0]*$/, 'may not hold NUL')
  .refine(
    (value) =>
      [...value.matchAll(/\{\{([^}]*)\}\}/g)].every((m) =>
        (ENV_PLACEHOLDERS as readonly string[]).includes(m[1] ?? ''),
      ),
    `may only use the placeholders ${ENV_PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ')}`,
  );

export const setupSchema = z.strictObject({
  copy: z.array(insidePath).optional(),
  symlink: z.array(insidePath).optional(),
  run: z.array(command).optional(),
  timeoutMs: z.number().int().min(1).max(MAX_SETUP_TIMEOUT_MS).optional(),
});

export const envSchema = z.strictObject({
  set: z.record(envName, envValue).optional(),
  deny: z.array(envPattern).optional(),
});

const baseRef = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^\0\s]+$/, 'must be a branch, tag or commit');
const sparse = z.array(insidePath).min(1);

export const templateSchema = z.strictObject({
  setup: setupSchema.optional(),
  sparse: sparse.optional(),
  env: envSchema.optional(),
  baseRef: baseRef.optional(),
});

export const TEMPLATE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  baseRef: baseRef.optional(),
  branchPrefix: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*\/$/,
      'must be ref components ending in "/" (agents/)',
    )
    .refine((prefix) => !prefix.includes('..') && !prefix.includes('.lock/'), 'may not hold ".." or ".lock/"')
    .optional(),
  worktreeRoot: z.string().min(1).max(4096).optional(),
  maxLanes: z.number().int().min(1).optional(),
  maxPtys: z.number().int().min(1).optional(),
  pty: ptyLimitsSchema.optional(),
  setup: setupSchema.optional(),
  teardown: z.strictObject({ run: z.array(command).optional() }).optional(),
  sparse: sparse.optional(),
  env: envSchema.optional(),
  ports: z
    .strictObject({
      base: z.number().int().min(1).max(65_535),
      perLane: z.number().int().min(1).max(65_535).optional(),
    })
    .optional(),
  templates: z
    .record(
      z.string().regex(TEMPLATE_NAME_PATTERN, 'a template name is letters, digits, ".", "_" and "-"'),
      templateSchema,
    )
    .optional(),
});

export type LanevisorConfig = z.infer<typeof configSchema>;
export type SetupConfig = z.infer<typeof setupSchema>;
export type EnvConfig = z.infer<typeof envSchema>;
export type TemplateConfig = z.infer<typeof templateSchema>;

/** The JSON Schema of the file, published as docs/schema/config.schema.json. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  const document = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://lanevisor.dev/schema/config.schema.json',
    title: 'lanevisor.json',
    description: "A repository's lanevisor configuration: what every lane starts with. See docs/config.md.",
    ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema')),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
