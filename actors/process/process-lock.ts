import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { LanevisorError } from '../../bus/errors.js';
import { readProcStat } from './proc.js';
import { isSameProcessAlive } from './process-tree.js';

/**
 * A lock file that dies with its process: it names its holder (pid, start time, boot), so a lock
 * whose holder is gone — killed, crashed, or from before a reboot — is seen as stale and taken over
 * at once, with no timeout to wait out. Created complete (a temporary file hard-linked into place,
 * which fails if the lock exists), so nobody ever reads a half-written holder.
 */
export interface LockHolder {
  readonly pid: number;
  /** /proc/<pid>/stat start time: tells the holder from a later process with the same pid. */
  readonly startTime: number;
  readonly bootId: string;
  /** Who holds it, for people: a runtime id, or a description. */
  readonly owner: string;
  /** Epoch milliseconds. */
  readonly acquiredAt: number;
}

export interface HeldLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** The dead holder whose lock was taken over, if there was one. */
  readonly tookOverFrom: LockHolder | undefined;
  release(): Promise<void>;
}

/** A takeover claim older than this was left by a process that died while taking over. */
export const TAKEOVER_STALE_MS = 10_000;
/** An unreadable lock younger than this may be somebody else's file: it is waited on, not removed. */
export const UNREADABLE_LOCK_GRACE_MS = 10_000;
const POLL_FIRST_MS = 5;
const POLL_MAX_MS = 100;

const holderSchema = z.strictObject({
  pid: z.number().int().positive(),
  startTime: z.number().int().min(0),
  bootId: z.string(),
  owner: z.string(),
  acquiredAt: z.number().int(),
});

const BOOT_ID = readBootId();

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** True while the process that took the lock runs (not a zombie, not a reused pid, same boot). */
export function isHolderAlive(holder: LockHolder): boolean {
  return holder.bootId === BOOT_ID && isSameProcessAlive(holder);
}

/**
 * Takes the lock at `path`. A live holder makes it wait up to `waitMs` (polling), then reject
 * with LOCKED naming the holder; `waitMs` 0 rejects at once.
 */
export async function acquireProcessLock(
  path: string,
  owner: string,
  options: { readonly waitMs: number; readonly what: string },
): Promise<HeldLock> {
  const holder: LockHolder = {
    pid: process.pid,
    startTime: readProcStat(process.pid)?.startTime ?? 0,
    bootId: BOOT_ID,
    owner,
    acquiredAt: Date.now(),
  };
  const text = `${JSON.stringify(holder)}\n`;
  const deadline = performance.now() + options.waitMs;
  let tookOverFrom: LockHolder | undefined;
  for (let pause = POLL_FIRST_MS; ; pause = Math.min(pause * 2, POLL_MAX_MS)) {
    const attempt = await tryCreate(path, text);
    if (attempt.kind === 'acquired') {
      return { path, holder, tookOverFrom, release: () => releaseIfOurs(path, text) };
    }
    if (attempt.kind === 'gone') continue;
    if (attempt.kind === 'stale') {
      if (attempt.holder !== undefined) tookOverFrom = attempt.holder;
      await removeStale(path, attempt.text);
      continue;
    }
    if (attempt.kind === 'held' && performance.now() >= deadline) throw lockedError(path, attempt.holder, options.what);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

type Attempt =
  | { readonly kind: 'acquired' }
  | { readonly kind: 'held'; readonly holder: LockHolder | undefined }
  | { readonly kind: 'stale'; readonly holder: LockHolder | undefined; readonly text: string }
  | { readonly kind: 'gone' };

async function tryCreate(path: string, text: string): Promise<Attempt> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  try {
    await link(temp, path);
    return { kind: 'acquired' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temp, { force: true });
  }
  const current = await readFile(path, 'utf8').catch(() => undefined);
  // Released between our link and our read: try again at once.
  if (current === undefined) return { kind: 'gone' };
  const parsed = parseHolder(current);
  if (parsed !== undefined) {
    return isHolderAlive(parsed) ? { kind: 'held', holder: parsed } : { kind: 'stale', holder: parsed, text: current };
  }
  const age = await ageMs(path);
  return age !== undefined && age > UNREADABLE_LOCK_GRACE_MS
    ? { kind: 'stale', holder: undefined, text: current }
    : { kind: 'held', holder: undefined };
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    return holderSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock, unless somebody replaced it meanwhile: the check and the removal happen
 * under a takeover claim (a directory, created atomically), so two processes that both saw the
 * stale lock cannot remove a fresh one between them.
 */
async function removeStale(path: string, staleText: string): Promise<void> {
  const claim = `${path}.takeover`;
  try {
    await mkdir(claim, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = await ageMs(claim);
    if (age !== undefined && age > TAKEOVER_STALE_MS) await rm(claim, { recursive: true, force: true });
    return;
  }
  try {
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current === staleText) await unlink(path);
  } finally {
    await rmdir(claim);
  }
}

async function releaseIfOurs(path: string, text: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === text) await unlink(path).catch(() => undefined);
}

async function ageMs(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

function lockedError(path: string, holder: LockHolder | undefined, what: string): LanevisorError {
  const who =
    holder === undefined
      ? `a file lanevisor cannot read (${path}); remove it if no lanevisor runs here`
      : `${holder.owner} (pid ${holder.pid}, since ${new Date(holder.acquiredAt).toISOString()})`;
  return new LanevisorError('LOCKED', `${what} is held by ${who}`, {
    details: { path, ...(holder === undefined ? {} : { holder }) },
  });
}
