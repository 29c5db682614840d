import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LanevisorError } from '../../../bus/errors.js';
import { ensureSocketDir, hostPathsOf } from './host-paths.js';

/**
 * Starts a terminal host for a state directory: detached, in its own session, its stdio tied to
 * nothing of this process, without the runtime's LANEVISOR_ variables (its PTYs' tags among them).
 */
export function launchHost(stateDir: string, parentEnv: NodeJS.ProcessEnv) {
  ensureSocketDir(hostPathsOf(stateDir).socketDir);
  // Node 20's io_uring can spin on PTYs (node-pty #630, pty-host-facts.md).
  const env: Record<string, string> = { UV_USE_IO_URING: '0' };
  for (const [key, value] of Object.entries(parentEnv)) {
    if (value !== undefined && !key.startsWith('LANEVISOR_')) env[key] = value;
  }
  const child = spawn(process.execPath, [hostEntry(), stateDir], { detached: true, stdio: 'ignore', env });
  child.unref();
  return child;
}

/** The host's entry: beside this module when built; from the sources (tests), in the build. */
export function hostEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'main.js');
  if (existsSync(beside)) return beside;
  const built = resolve(here, '../../../dist/actors/pty/host/main.js');
  if (existsSync(built)) return built;
  throw new LanevisorError('SPAWN_ERROR', `the terminal host's entry is missing (${beside}); run npm run build`);
}
