import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** `durable: false` skips the fsyncs: for facts a power cut makes moot (about processes, which it ends too). */
export interface WriteOptions {
  readonly durable?: boolean;
}

/**
 * Writes a file so that a crash at any moment leaves either the old content or the new one, never
 * a torn file: a temporary file in the same directory, fsync, rename over the target, fsync of the
 * directory (so the rename itself survives a power cut).
 */
export async function writeFileAtomic(path: string, content: string, options: WriteOptions = {}): Promise<void> {
  const durable = options.durable ?? true;
  const dir = dirname(path);
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(content);
    if (durable) await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (durable) await syncDirectory(dir);
}

/**
 * The same without the fsyncs, synchronously: a temporary file, then a rename over the target.
 * For small files many of which are written at once (the journal's PTY records): the same four
 * system calls (open, write, close, rename) made at once instead of as trips through libuv's
 * thread pool, each waiting for a turn of the loop.
 */
export function writeFileAtomicSyncNotDurable(path: string, content: string): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, content, { mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Removes a file (gone already is fine), then fsyncs its directory unless `durable: false`. */
export async function removeFileSafely(path: string, options: WriteOptions = {}): Promise<void> {
  await rm(path, { force: true });
  if (options.durable ?? true) await syncDirectory(dirname(path));
}

/** A directory only its owner can read (records name paths and processes). */
export async function ensurePrivateDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
