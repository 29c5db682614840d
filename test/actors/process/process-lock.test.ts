import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readProcStat } from '../../../actors/process/proc.js';
import { acquireProcessLock, isHolderAlive, type LockHolder } from '../../../actors/process/process-lock.js';
import { isLanevisorError } from '../../../bus/errors.js';
import { distModule, lineFrom, spawnNodeScript } from '../../support/dist.js';

let dir: string;
let lock: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanevisor-lock-'));
  lock = join(dir, 'runtime.lock');
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const now = { waitMs: 0, what: 'the test lock' };
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** A child process that takes the lock, says so, and holds it until killed (or for `holdMs`). */
async function holdInChild(holdMs?: number): Promise<ChildProcess> {
  const child = spawnNodeScript(`
    import { acquireProcessLock } from ${JSON.stringify(distModule('actors/process/process-lock.js'))};
    const held = await acquireProcessLock(${JSON.stringify(lock)}, 'the child', { waitMs: 0, what: 'x' });
    console.log('held');
    ${holdMs === undefined ? 'setInterval(() => {}, 1000);' : `setTimeout(() => held.release().then(() => process.exit(0)), ${holdMs});`}
  `);
  children.push(child);
  await lineFrom(child, (line) => line === 'held');
  return child;
}

function writeHolder(holder: Partial<LockHolder>): void {
  const self = readProcStat(process.pid);
  writeFileSync(
    lock,
    JSON.stringify({
      pid: process.pid,
      startTime: self?.startTime,
      bootId: bootId(),
      owner: 'someone',
      acquiredAt: 1,
      ...holder,
    }),
  );
}

describe('process lock', () => {
  it('refuses a second holder while the first lives, naming it, and is free again once released', async () => {
    const first = await acquireProcessLock(lock, 'runtime rt_first', now);
    expect(first.tookOverFrom).toBeUndefined();
    expect(isHolderAlive(first.holder)).toBe(true);
    const second = await acquireProcessLock(lock, 'runtime rt_second', now).catch((error: unknown) => error);
    expect(isLanevisorError(second, 'LOCKED')).toBe(true);
    expect((second as Error).message).toContain(`runtime rt_first (pid ${process.pid}`);
    await first.release();
    expect(existsSync(lock)).toBe(false);
    const third = await acquireProcessLock(lock, 'runtime rt_third', now);
    await third.release();
  });

  it('takes over at once the lock of a process that was killed', async () => {
    const child = await holdInChild();
    await expect(acquireProcessLock(lock, 'me', now)).rejects.toThrow(`the child (pid ${child.pid}`);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const held = await acquireProcessLock(lock, 'me', now);
    expect(held.tookOverFrom).toMatchObject({ pid: child.pid, owner: 'the child' });
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid, owner: 'me' });
    await held.release();
  });

  it('waits for a live holder that lets go within the wait', async () => {
    await holdInChild(300);
    const started = performance.now();
    const held = await acquireProcessLock(lock, 'me', { waitMs: 5_000, what: 'x' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(held.tookOverFrom).toBeUndefined();
    await held.release();
  });

  it('treats a reused pid and a lock from another boot as stale', async () => {
    writeHolder({ startTime: 1 });
    let held = await acquireProcessLock(lock, 'me', now);
    expect(held.tookOverFrom).toMatchObject({ startTime: 1 });
    await held.release();
    writeHolder({ bootId: 'another-boot' });
    held = await acquireProcessLock(lock, 'me', now);
    expect(held.tookOverFrom).toMatchObject({ bootId: 'another-boot' });
    await held.release();
  });

  it('lets exactly one of two contenders take over one stale lock', async () => {
    writeHolder({ startTime: 1 });
    const results = await Promise.allSettled([
      acquireProcessLock(lock, 'a', now),
      acquireProcessLock(lock, 'b', now),
      acquireProcessLock(lock, 'c', now),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of results.filter((r) => r.status === 'rejected')) {
      expect(isLanevisorError(lost.reason, 'LOCKED')).toBe(true);
    }
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireProcessLock>>>).value.release();
  });

  it('waits on an unreadable lock while it is young, and removes it once old', async () => {
    writeFileSync(lock, 'not json');
    await expect(acquireProcessLock(lock, 'me', now)).rejects.toThrow('a file lanevisor cannot read');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const held = await acquireProcessLock(lock, 'me', now);
    expect(held.tookOverFrom).toBeUndefined();
    await held.release();
  });

  it('never removes a lock it does not hold', async () => {
    const first = await acquireProcessLock(lock, 'first', now);
    writeHolder({ owner: 'replaced' });
    await first.release();
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ owner: 'replaced' });
  });
});
