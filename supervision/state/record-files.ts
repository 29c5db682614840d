import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';

/** A file in a record directory that is not a valid record: kept where it is, and reported. */
export interface RecordProblem {
  readonly file: string;
  readonly problem: string;
}

/**
 * Every `*.json` record in `dir` that `schema` accepts, in name order, and the files it does not.
 * Read synchronously: records are small files read once at a start (or by `lanevisor ls`), and
 * four trips through libuv's thread pool per file (open, stat, read, close) made 150 of them take
 * 100-170 ms on a loaded machine, where reading them in one go takes a few milliseconds.
 */
export async function readRecords<T>(
  dir: string,
  schema: z.ZodType<T>,
): Promise<{ records: T[]; problems: RecordProblem[] }> {
  const records: T[] = [];
  const problems: RecordProblem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { records, problems };
  }
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(dir, name);
    try {
      records.push(schema.parse(JSON.parse(readFileSync(file, 'utf8'))));
    } catch (error) {
      problems.push({
        file,
        problem: error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error),
      });
    }
  }
  return { records, problems };
}
