import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { LanevisorError } from '../index.js';
import { createToken } from './auth.js';

const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The token kept in `file`: read when the file is there, else a new one written to it (0600,
 * never over an existing file). A server restarted on the same file keeps its token, so an open
 * page reconnects by itself instead of asking for a new URL. A file anyone else may read, or that
 * holds anything but a token, is refused: the token controls every terminal of the runtime.
 */
export async function tokenFromFile(file: string): Promise<string> {
  const existing = await readToken(file);
  if (existing !== undefined) return existing;
  const token = createToken();
  try {
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(`${token}\n`);
    } finally {
      await handle.close();
    }
    return token;
  } catch (error) {
    // Another server wrote it first: its token is the one.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readToken(file)) as string;
    throw new LanevisorError('INVALID_ARGUMENT', `cannot write the token file ${file}: ${(error as Error).message}`);
  }
}

async function readToken(file: string): Promise<string | undefined> {
  let mode: number;
  let uid: number;
  try {
    ({ mode, uid } = await stat(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((mode & 0o077) !== 0 || (process.getuid !== undefined && uid !== process.getuid())) {
    throw new LanevisorError(
      'INVALID_ARGUMENT',
      `the token file ${file} must be yours and readable by you alone (chmod 600 ${file}), or removed for a new token`,
    );
  }
  const token = (await readFile(file, 'utf8')).trim();
  if (!TOKEN_PATTERN.test(token)) {
    throw new LanevisorError('INVALID_ARGUMENT', `the token file ${file} holds no token; remove it for a new one`);
  }
  return token;
}
