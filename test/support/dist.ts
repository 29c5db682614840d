import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The compiled package: child processes in tests run it (`npm test` builds it first). */
export const DIST = resolve(import.meta.dirname, '../../dist');

/** The absolute path of a compiled module, e.g. `distModule('index.js')`; fails clearly when not built. */
export function distModule(relative: string): string {
  const path = resolve(DIST, relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` before these tests`);
  return path;
}

/** A Node child running an ES module script given as text, its stdout piped, stderr inherited. */
export function spawnNodeScript(script: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
}

/** Resolves with the first stdout line of `child` that satisfies `match`. */
export function lineFrom(child: ChildProcess, match: (line: string) => boolean = () => true): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (match(line)) {
          child.stdout?.off('data', onData);
          resolvePromise(line);
          return;
        }
        newline = buffer.indexOf('\n');
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before the line`)));
  });
}

/** SIGKILLs `child` if it still runs, and resolves once it has exited. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGKILL');
  await exited;
}
