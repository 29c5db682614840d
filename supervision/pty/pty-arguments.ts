import { constants as osConstants } from 'node:os';
import { z } from 'zod';
import { LanevisorError } from '../../bus/errors.js';
import { MAX_TIMEOUT_MS } from '../../bus/schemas.js';
import { parseOrThrow } from '../../bus/validation.js';
import { dimensionSchema } from './spawn-request.js';

/** The checks on what a caller hands a PTY's methods: each throws INVALID_ARGUMENT saying what is accepted. */
const SIGNALS = new Set(Object.keys(osConstants.signals));
const MAX_SNAPSHOT_SCROLLBACK_LINES = 100_000;
const graceMsSchema = z.number().int().min(0).max(MAX_TIMEOUT_MS);
const scrollbackLinesSchema = z.number().int().min(0).max(MAX_SNAPSHOT_SCROLLBACK_LINES);

export function checkWriteData(data: unknown): asserts data is string | Uint8Array {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new LanevisorError('INVALID_ARGUMENT', 'write takes a string or a Uint8Array');
  }
}

export function checkDimensions(cols: unknown, rows: unknown): void {
  parseOrThrow(dimensionSchema, cols, 'cols', 'INVALID_ARGUMENT');
  parseOrThrow(dimensionSchema, rows, 'rows', 'INVALID_ARGUMENT');
}

export function checkSignalName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !SIGNALS.has(name)) {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      `unknown signal ${JSON.stringify(name)}; use a name such as SIGINT or SIGHUP`,
    );
  }
}

export function checkListener(listener: unknown, method: string): void {
  if (typeof listener !== 'function') throw new LanevisorError('INVALID_ARGUMENT', `${method} takes a function`);
}

/** undefined stays undefined: the PTY's default applies. */
export function optionalGraceMs(graceMs: number | undefined): number | undefined {
  return graceMs === undefined ? undefined : parseOrThrow(graceMsSchema, graceMs, 'graceMs', 'INVALID_ARGUMENT');
}

export function optionalScrollbackLines(lines: number | undefined): number | undefined {
  return lines === undefined
    ? undefined
    : parseOrThrow(scrollbackLinesSchema, lines, 'scrollbackLines', 'INVALID_ARGUMENT');
}
