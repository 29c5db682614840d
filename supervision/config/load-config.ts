import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { LanevisorError } from '../../bus/errors.js';
import { formatFieldPath } from '../../bus/json-value.js';
import { CONFIG_FILE, configSchema, type LanevisorConfig } from './config-schema.js';

/** A config file larger than this is not a config file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The repository's `lanevisor.json`, validated; an empty config when there is none. Anything
 * wrong is INVALID_ARGUMENT naming the file, the key path and what was expected, so a typo stops
 * the runtime before a lane is made with half its setup.
 */
export async function loadConfig(repoRoot: string): Promise<LanevisorConfig> {
  const path = join(repoRoot, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw configError(path, `cannot be read: ${(error as Error).message}`, undefined);
  }
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES)
    throw configError(path, `is larger than ${MAX_CONFIG_BYTES} bytes`, undefined);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw configError(path, `is not valid JSON: ${(error as Error).message}`, undefined);
  }
  return parseConfig(value, path);
}

/** Validates a config value (the file's, or one given in code); `source` names it in errors. */
export function parseConfig(value: unknown, source: string = CONFIG_FILE): LanevisorConfig {
  const result = configSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const { field, message } = describeIssue(issue);
  throw configError(source, `${field}: ${message}`, field);
}

function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return {
      field: formatFieldPath('', [...issue.path, key]).replace(/^\./, '') || key,
      message: 'is not a key lanevisor knows (see docs/config.md)',
    };
  }
  const field = formatFieldPath('', issue.path).replace(/^\./, '') || '(the file)';
  return { field, message: issue.message };
}

function configError(source: string, problem: string, field: string | undefined): LanevisorError {
  // "lanevisor.json: setup.copy[0]: …" for a bad value, "lanevisor.json is not valid JSON: …" for the file.
  return new LanevisorError(
    'INVALID_ARGUMENT',
    field === undefined ? `${source} ${problem}` : `${source}: ${problem}`,
    {
      details: { file: source, ...(field === undefined ? {} : { field }) },
    },
  );
}
