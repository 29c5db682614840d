import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readProcStat, readProcText } from '../../../actors/process/proc.js';
import { waitUntil } from '../../support/wait.js';

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
  });

  it('reads a children list whole, which the kernel makes one entry at a time', async () => {
    // Enough children that their list passes one 4 KiB read (about 700 pids of 6 digits and a space).
    const parent = spawn('sh', ['-c', 'for i in $(seq 1 900); do sleep 30 & done; wait'], { stdio: 'ignore' });
    try {
      const path = `/proc/${parent.pid}/task/${parent.pid}/children`;
      const listed = () => readProcText(path).trim().split(' ');
      await waitUntil(() => readFileSync(path, 'latin1').trim().split(' ').length === 900, 'the 900 children', 10_000);
      expect(listed()).toHaveLength(900);
      expect(readProcText(path)).toBe(readFileSync(path, 'latin1'));
    } finally {
      parent.kill('SIGSTOP');
      for (const child of readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'latin1').split(' ')) {
        if (child !== '') process.kill(Number(child), 'SIGKILL');
      }
      parent.kill('SIGKILL');
    }
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
