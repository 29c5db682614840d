import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostPathsOf } from '../../actors/pty/host/host-paths.js';
import { controlPathsOf } from '../../supervision/control/control-protocol.js';

/** Runs git in a directory and returns its trimmed output (throws on failure, as a test expects success). */
export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface TempRepo {
  /** The directory holding the repository and its siblings (the default worktree root goes there). */
  readonly base: string;
  readonly path: string;
  dispose(): void;
}

/**
 * A real repository in a temp directory with one commit of `files` small files (and an ignored
 * file pattern), with a local identity so commits work anywhere.
 */
export function createTempRepo(files = 5): TempRepo {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'lanevisor-repo-')));
  const path = join(base, 'repo');
  mkdirSync(path);
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'config', 'user.name', 'Test');
  gitIn(path, 'config', 'user.email', 'test@example.invalid');
  gitIn(path, 'config', 'commit.gpgsign', 'false');
  // git's detached auto-gc would still be writing into the repository when a test deletes it.
  gitIn(path, 'config', 'gc.auto', '0');
  writeFileSync(join(path, '.gitignore'), 'node_modules/\n*.log\n');
  for (let i = 0; i < files; i++) {
    const dir = join(path, `dir${i % 10}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file${i}.txt`), `content of file ${i}\n`);
  }
  gitIn(path, 'add', '-A');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return {
    base,
    path,
    dispose: () => {
      try {
        removeSocketsOf(join(path, '.git', 'lanevisor'));
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A runtime or host that a test killed leaves its socket (outside the state directory, in this
 * user's socket directory) for the next one on that state directory to remove; once the state
 * directory is gone there is no next one, so the test removes them. Whatever still listens on one
 * (a host about to notice its state directory is gone) has nothing left to serve.
 */
export function removeSocketsOf(stateDir: string): void {
  let sockets: string[];
  try {
    sockets = [hostPathsOf(stateDir).socket, controlPathsOf(stateDir).socket];
  } catch {
    // A path too long for a socket: no runtime could have made one there.
    return;
  }
  for (const socket of sockets) rmSync(socket, { force: true });
}
