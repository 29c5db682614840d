import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { LanevisorError } from '../../bus/errors.js';

/**
 * True when `path` (resolved through symlinks as far as it exists) is strictly inside `root`:
 * removal only ever happens inside the worktree root, whatever a record or a label says.
 */
export function isInside(root: string, path: string): boolean {
  const realRoot = realpathOrSelf(root);
  const realPath = realpathOfExistingPrefix(resolve(path));
  const rel = relative(realRoot, realPath);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

export function assertInside(root: string, path: string): void {
  if (!isInside(root, path)) {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      `refusing to touch ${path}: it is not inside the worktree root ${root}`,
      {
        details: { root, path },
      },
    );
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The real path of the longest existing prefix, with the rest appended (for paths not created yet). */
function realpathOfExistingPrefix(path: string): string {
  let existing = path;
  let rest = '';
  for (;;) {
    try {
      return resolve(realpathSync(existing), rest);
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return path;
      rest = rest === '' ? relative(parent, existing) : `${relative(parent, existing)}${sep}${rest}`;
      existing = parent;
    }
  }
}
