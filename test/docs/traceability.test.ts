import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/traceability.md maps the requirements of the two plans lanevisor was built from to the tests
 * and benchmarks that check them. A mapping to a file that is gone is a requirement no longer
 * checked: this fails then, naming the file.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/traceability.md';
const PLANS = ['000_647ba13816d70481.txt', '003_c3a5c408b946c416.txt'];
const MIN_REFERENCES = 30;

const text = readFileSync(`${ROOT}${DOC}`, 'utf8');

/** Every backticked repository-relative path of a test or benchmark source file, once each. */
function referencedFiles(markdown: string): string[] {
  const paths = [...markdown.matchAll(/`([^`\s]+)`/g)]
    .map((match) => match[1] as string)
    .filter((path) => /^(test|bench)\/.+\.ts$/.test(path));
  return [...new Set(paths)].sort();
}

describe(DOC, () => {
  const files = referencedFiles(text);

  it(`names at least ${MIN_REFERENCES} test and benchmark files`, () => {
    expect(files.length, `found: ${files.join(', ')}`).toBeGreaterThanOrEqual(MIN_REFERENCES);
  });

  it('names only test and benchmark files that exist', () => {
    const missing = files.filter((path) => !existsSync(`${ROOT}${path}`));
    expect(missing, `${DOC} names files that do not exist: ${missing.join(', ')}`).toEqual([]);
  });

  it('names both plans it traces, and says once that Node stands where they name Bun', () => {
    for (const plan of PLANS) expect(text, `the plan ${plan}`).toContain(plan);
    expect(text).toMatch(/Bun[^\n]*\n?[^\n]*Node/);
  });

  it('finds paths the way the document writes them (a check of the parser itself)', () => {
    expect(
      referencedFiles('`test/a.test.ts`, `bench/b.ts`, `test/fixtures/par`, `docs/x.md`, `test/a.test.ts`'),
    ).toEqual(['bench/b.ts', 'test/a.test.ts']);
  });
});
