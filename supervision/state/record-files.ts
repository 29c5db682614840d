import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';

/** A file in a record directory that is not a valid record: kept where it is, and reported. */
export interface RecordProblem {
  readonly file: string;
  readonly problem: string;
}

/** Every `*.json` record in `dir` that `schema` accepts, in name order, and the files it does not. */
export async function readRecords<T>(
  dir: string,
  schema: z.ZodType<T>,
): Promise<{ records: T[]; problems: RecordProblem[] }> {
  const records: T[] = [];
  const problems: RecordProblem[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { records, problems };
  }
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = join(dir, name);
    try {
      records.push(schema.parse(JSON.parse(await readFile(file, 'utf8'))));
    } catch (error) {
      problems.push({
        file,
        problem: error instanceof Error ? (error.message.split('\n', 1)[0] ?? '') : String(error),
      });
    }
  }
  return { records, problems };
}
