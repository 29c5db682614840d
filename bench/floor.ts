import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { untilPrinted } from './pty-harness.js';

/**
 * A terminal behind floor-host.ts: the least input → echo, or a flood, through a second process
 * can cost.
 */
export interface Floor {
  write(data: string): void;
  onData(listener: (chunk: string) => void): () => void;
  /** Resolves when the script has ended and everything it printed has come. */
  readonly ended: Promise<void>;
  dispose(): Promise<void>;
}

const FLOOR_HOST_ENTRY = fileURLToPath(new URL('./floor-host.js', import.meta.url));

/**
 * Starts `script` behind the floor host and resolves once it has printed `ready`. The floor host
 * runs in a session of its own, as the terminal host must (the contract; host-launch.ts), unless
 * `ownSession` is false: under CONFIG_SCHED_AUTOGROUP a session is also a scheduling group of its
 * own, and a round trip between two groups costs more than one inside a group
 * (docs/performance.md, 2026-12-08), so a floor in the benchmark's session is no floor for a host
 * in its own. The echo benchmark measures both and prints what the session costs.
 */
export async function startFloor(script: string, ready: string, ownSession = true): Promise<Floor> {
  const dir = mkdtempSync(join(tmpdir(), 'lanevisor-floor-'));
  const socketPath = join(dir, 's');
  const host: ChildProcess = spawn(process.execPath, [FLOOR_HOST_ENTRY, socketPath, script], {
    detached: ownSession,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve, reject) => {
      host.stdout?.once('data', resolve);
      host.once('exit', (code) => reject(new Error(`the echo floor host exited (${code}) before it listened`)));
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const socket: Socket = createConnection(socketPath);
  socket.setEncoding('utf8');
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  const floor: Floor = {
    ended,
    write: (data) => socket.write(data),
    onData: (listener) => {
      socket.on('data', listener);
      return () => socket.off('data', listener);
    },
    dispose: async () => {
      socket.destroy();
      if (host.exitCode === null && host.signalCode === null) {
        await new Promise<void>((resolve) => {
          host.once('exit', () => resolve());
          host.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await untilPrinted(floor.onData, ready);
  return floor;
}
