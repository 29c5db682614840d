import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IPty } from 'node-pty';
import { HostBackend } from '../actors/pty/host/host-client.js';
import { DEFAULT_OUTPUT_BUFFER_BYTES } from '../actors/pty/output-buffer.js';
import { createLaneId, createRuntimeId } from '../bus/ids.js';
import { LocalBus } from '../bus/local-bus.js';
import { StandalonePtys, type StandalonePtysOptions } from '../supervision/pty/standalone-ptys.js';
import type { Pty, SpawnPtyOptions } from '../supervision/pty/types.js';

const require = createRequire(import.meta.url);
export const rawPty = require('node-pty') as typeof import('node-pty');

export const BASH_ARGS = ['--norc', '--noprofile', '-i'];
export const BASH_ENV = { PS1: '$ ', PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' };

/** Which backend our side uses: LANEVISOR_PTY_HOST (`process`, the terminal host, or `inline`; inline by default here). */
export function benchBackend(): 'process' | 'inline' {
  return process.env.LANEVISOR_PTY_HOST === 'process' ? 'process' : 'inline';
}

/** Our side: PTYs on their own bus, in a temp directory (also the host's state directory, with the terminal host). */
export function createHarness(options: Partial<Omit<StandalonePtysOptions, 'bus' | 'runtimeId'>> = {}) {
  const bus = new LocalBus();
  const runtimeId = createRuntimeId();
  const cwd = mkdtempSync(join(tmpdir(), 'lanevisor-bench-'));
  const terminalHost =
    benchBackend() === 'process'
      ? new HostBackend({
          stateDir: cwd,
          runtimeId,
          lingerMs: 0,
          graceMs: 1_000,
          outputBufferBytes: options.pty?.outputBufferBytes ?? DEFAULT_OUTPUT_BUFFER_BYTES,
        })
      : undefined;
  const host = new StandalonePtys({ bus, runtimeId, ...options, ...(terminalHost ? { backend: terminalHost } : {}) });
  const laneId = createLaneId();
  return {
    bus,
    host,
    terminalHost,
    cwd,
    spawn: (spawnOptions: SpawnPtyOptions = { command: 'bash', args: BASH_ARGS, env: { PS1: '$ ' } }) =>
      host.spawnPty(laneId, cwd, spawnOptions),
    async dispose(): Promise<void> {
      await Promise.all(host.ptys().map((pty) => pty.terminate({ graceMs: 1_000 })));
      await terminalHost?.close();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** The baseline: node-pty used directly, the way most tools use it. */
export function spawnRaw(file = 'bash', args: string[] = BASH_ARGS, cwd = tmpdir()): IPty {
  return rawPty.spawn(file, args, { cols: 80, rows: 24, cwd, env: BASH_ENV });
}

export async function killRaw(ptys: readonly IPty[]): Promise<void> {
  await Promise.all(
    ptys.map(
      (pty) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2_000);
          pty.onExit(() => {
            clearTimeout(timer);
            resolve();
          });
          try {
            process.kill(-pty.pid, 'SIGKILL');
          } catch {
            pty.kill('SIGKILL');
          }
        }),
    ),
  );
}

/** A raw PTY's output as a subscription that returns its own end (as `Pty.onData` does). */
export function rawSubscription(pty: IPty): (listener: (chunk: string) => void) => () => void {
  return (listener) => {
    const sub = pty.onData(listener);
    return () => sub.dispose();
  };
}

/** Resolves once `text` has been printed: in `already`, or in what `subscribe` delivers from now on. */
export function untilPrinted(
  subscribe: (listener: (chunk: string) => void) => () => void,
  text: string,
  already = '',
): Promise<void> {
  return new Promise((resolve) => {
    let seen = already;
    // With nothing printed yet, even an empty `text` waits for the first chunk.
    if (seen !== '' && seen.includes(text)) return resolve();
    const off = subscribe((chunk) => {
      seen += chunk;
      if (seen.includes(text)) {
        off();
        resolve();
      }
    });
  });
}

/** Resolves at the first raw output chunk (holding `text`, when given) from now on. */
export function rawOutput(pty: IPty, text = ''): Promise<void> {
  return untilPrinted(rawSubscription(pty), text);
}

/** Resolves at the first output chunk from now on, or at once if some is already retained. */
export function firstOutput(pty: Pty): Promise<void> {
  return new Promise((resolve) => {
    const off = pty.onData(() => {
      off();
      resolve();
    });
    if (pty.scrollback().length > 0) {
      off();
      resolve();
    }
  });
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().rss;
}

/** Room for a crowd of `count` beside the PTYs a benchmark measures. */
export const crowdRoom = (count: number) => ({ maxPtys: count + 100 });

/**
 * `count` idle PTYs among which each side's measured PTY lives: ours through `harness` (so in
 * its terminal host, one host for all, as in a runtime), and, when that is a host, as many raw
 * node-pty PTYs in this process for the raw side (inline, ours are here already).
 */
export async function spawnIdleCrowd(harness: ReturnType<typeof createHarness>, count: number) {
  for (let i = 0; i < count; i++) await harness.spawn({ command: 'sleep', args: ['1000'] });
  const raw: IPty[] = [];
  try {
    if (benchBackend() === 'process') for (let i = 0; i < count; i++) raw.push(spawnRaw('sleep', ['1000']));
  } catch (error) {
    // Ours go with the harness; the raw ones made so far are this function's to end.
    await killRaw(raw);
    throw error;
  }
  return { dispose: () => killRaw(raw) };
}

/** Resolves once `text` has been printed (in the scrollback already, or from now on). */
export function waitForOutput(pty: Pty, text: string): Promise<void> {
  return untilPrinted((listener) => pty.onData(listener), text, pty.scrollback());
}
