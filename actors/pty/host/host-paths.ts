import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanevisorError } from '../../../bus/errors.js';

/**
 * Where a state directory's terminal host listens, and how a client proves it may talk to it.
 * The socket does not live in the state directory: a unix socket path holds at most 107 bytes,
 * which a deep repository path passes. It lives in a directory of this user's,
 * `$XDG_RUNTIME_DIR/lanevisor` or `/tmp/lanevisor-<uid>`, created 0700 and checked as tmux checks
 * its own (a directory, not a link, owned by this user, no group or other bits), named by a hash
 * of the state directory. The token is a random secret in `<stateDir>/host.token`, 0600; every
 * connection sends it first.
 */
export const MAX_SOCKET_PATH_BYTES = 107;
export const HOST_TOKEN_FILE = 'host.token';
export const HOST_LOG_FILE = 'host.log';
const TOKEN_BYTES = 32;

export interface HostPaths {
  readonly socketDir: string;
  readonly socket: string;
  readonly tokenFile: string;
  readonly logFile: string;
}

export function hostPathsOf(stateDir: string, env: NodeJS.ProcessEnv = process.env): HostPaths {
  const { socketDir, socket } = localSocketOf(stateDir, 'host', "the terminal host's socket", env);
  return { socketDir, socket, tokenFile: join(stateDir, HOST_TOKEN_FILE), logFile: join(stateDir, HOST_LOG_FILE) };
}

/**
 * A state directory's socket of one kind (`host`, `control`): in this user's socket directory,
 * named by a hash of the state directory, refused when its path is too long for a unix socket.
 */
export function localSocketOf(
  stateDir: string,
  kind: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): { readonly socketDir: string; readonly socket: string } {
  const uid = process.getuid?.() ?? 0;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const socketDir = runtimeDir?.startsWith('/') ? join(runtimeDir, 'lanevisor') : join(tmpdir(), `lanevisor-${uid}`);
  const name = createHash('sha256').update(stateDir).digest('hex').slice(0, 24);
  const socket = join(socketDir, `${kind}-${name}.sock`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      `${what} path ${socket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; set XDG_RUNTIME_DIR or TMPDIR to a shorter directory`,
    );
  }
  return { socketDir, socket };
}

/** Creates the socket directory (0700) if needed, then refuses it unless it is safe to use. */
export function ensureSocketDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  assertSocketDirSafe(dir);
}

/** tmux's rule: a directory (not a symbolic link), owned by this user, with no group or other permission bits. */
export function assertSocketDirSafe(dir: string): void {
  const info = lstatSync(dir);
  const uid = process.getuid?.() ?? info.uid;
  const problem = !info.isDirectory()
    ? 'is not a directory'
    : info.uid !== uid
      ? `is owned by uid ${info.uid}, not by this user (${uid})`
      : (info.mode & 0o077) !== 0
        ? `is open to others (mode ${(info.mode & 0o777).toString(8)}; it must be 700)`
        : undefined;
  if (problem !== undefined) {
    throw new LanevisorError('INVALID_STATE', `refusing the terminal host's socket directory ${dir}: it ${problem}`, {
      details: { dir },
    });
  }
}

/** The host's token, made (0600) when there is none yet. */
export function ensureToken(tokenFile: string): string {
  try {
    return readToken(tokenFile);
  } catch {
    const token = randomBytes(TOKEN_BYTES).toString('hex');
    try {
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
      return token;
    } catch {
      // Another process made it first: use theirs.
      return readToken(tokenFile);
    }
  }
}

export function readToken(tokenFile: string): string {
  const info = lstatSync(tokenFile);
  if (!info.isFile() || (info.mode & 0o077) !== 0) {
    throw new LanevisorError(
      'INVALID_STATE',
      `refusing the terminal host's token ${tokenFile}: it must be a file of mode 600`,
    );
  }
  const token = readFileSync(tokenFile, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(token))
    throw new LanevisorError('INVALID_STATE', `the token in ${tokenFile} is malformed`);
  return token;
}

/** Compares tokens in constant time. */
export function tokensMatch(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}
