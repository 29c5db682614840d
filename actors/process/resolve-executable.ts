import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * The absolute path of an executable: a name with a slash is taken relative to `cwd`, a bare name
 * is looked up in PATH, as execvp would. Returns undefined when there is none, so the caller can
 * refuse to spawn with a clear error instead of starting a child that fails in exec.
 */
export function resolveExecutable(command: string, cwd: string, path: string | undefined): string | undefined {
  const key = `${command}\0${cwd}\0${path ?? ''}`;
  const cached = resolved.get(key);
  // A hit is checked again (one stat): the file may have been removed since.
  if (cached !== undefined && isExecutableFile(cached)) return cached;
  const found = search(command, cwd, path);
  if (found === undefined) resolved.delete(key);
  else {
    if (resolved.size >= RESOLVED_CACHE_LIMIT) resolved.clear();
    resolved.set(key, found);
  }
  return found;
}

/** Command, cwd and PATH → resolved file, so that a spawn does one stat instead of one per PATH entry. */
const resolved = new Map<string, string>();
/** Lanes bring new cwds: the cache starts over rather than grow without bound. */
const RESOLVED_CACHE_LIMIT = 256;

function search(command: string, cwd: string, path: string | undefined): string | undefined {
  if (command.includes('/')) {
    const candidate = isAbsolute(command) ? command : resolve(cwd, command);
    return isExecutableFile(candidate) ? candidate : undefined;
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(isAbsolute(dir) ? dir : resolve(cwd, dir), command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
