import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { untilPrinted } from './pty-harness.js';

/** A terminal behind echo-floor-host.ts: the least input → echo through a second process can cost. */
export interface EchoFloor {
  write(data: string): void;
  onData(listener: (chunk: string) => void): () => void;
  dispose(): Promise<void>;
}

const FLOOR_HOST_ENTRY = fileURLToPath(new URL('./echo-floor-host.js', import.meta.url));

export async function startEchoFloor(script: string, ready: string): Promise<EchoFloor> {
  const dir = mkdtempSync(join(tmpdir(), 'lanevisor-echo-floor-'));
  const socketPath = join(dir, 's');
  const host: ChildProcess = spawn(process.execPath, [FLOOR_HOST_ENTRY, socketPath, script], {
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
  const floor: EchoFloor = {
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
