import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readProcStat, readProcText } from '../../../actors/process/proc.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('readProcText', () => {
  it('reads a file whole whatever its size, a short one and one filling its buffer alike', () => {
    dir = mkdtempSync(join(tmpdir(), 'lanevisor-proc-'));
    for (const size of [0, 17, 4095, 4096, 4097, 70_000]) {
      const text = Array.from({ length: size }, (_, i) => String.fromCharCode(32 + (i % 90))).join('');
      const path = join(dir, `f${size}`);
      writeFileSync(path, text, 'latin1');
      expect(readProcText(path)).toBe(text);
    }
    // The shared buffer is not handed out: an earlier result keeps its text after later reads.
    const first = readProcText(join(dir, 'f17'));
    readProcText(join(dir, 'f4095'));
    expect(first).toHaveLength(17);
    expect(first.startsWith(' !"#')).toBe(true);
  });

  it('throws as readFileSync does for a process that is gone, and reads a live one', () => {
    expect(() => readProcText('/proc/999999999/stat')).toThrow(/ENOENT/);
    expect(readProcStat(999_999_999)).toBeUndefined();
    const stat = readProcStat(process.pid);
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.state).toMatch(/^[RS]$/);
  });
});
