import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostBackend } from '../../actors/pty/host/host-client.js';
import { DEFAULT_OUTPUT_BUFFER_BYTES } from '../../actors/pty/output-buffer.js';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { createLaneId, createRuntimeId, type LaneId } from '../../bus/ids.js';
import { LocalBus } from '../../bus/local-bus.js';
import { StandalonePtys, type StandalonePtysOptions } from '../../supervision/pty/standalone-ptys.js';
import type { Pty, SpawnPtyOptions } from '../../supervision/pty/types.js';
import { ptyHostOf } from '../../supervision/runtime/pty-backend.js';
import { waitUntil } from './wait.js';

/** A bash that reads no startup files and shows a fixed prompt, so tests see only what they cause. */
export const BASH = { command: 'bash', args: ['--norc', '--noprofile', '-i'], env: { PS1: '$ ' } } as const;

/**
 * Standalone PTYs on their own bus and temp directory, recording every event; `dispose` terminates what
 * is left (short grace) and removes the directory.
 */
export function createPtyFixture(options: Partial<Omit<StandalonePtysOptions, 'bus' | 'runtimeId'>> = {}) {
  const bus = new LocalBus({ queueLimit: 1_000_000 });
  const events: EventEnvelope[] = [];
  bus.subscribe(
    '**',
    (event) => {
      events.push(event);
    },
    { queueLimit: 1_000_000 },
  );
  const runtimeId = createRuntimeId();
  const cwd = mkdtempSync(join(tmpdir(), 'lanevisor-pty-'));
  // The same tests run against both backends (LANEVISOR_PTY_HOST picks; the terminal host by default).
  const host =
    options.backend === undefined && ptyHostOf({ repo: cwd }) === 'process'
      ? new HostBackend({
          stateDir: cwd,
          runtimeId,
          lingerMs: 0,
          graceMs: 500,
          outputBufferBytes: options.pty?.outputBufferBytes ?? DEFAULT_OUTPUT_BUFFER_BYTES,
        })
      : undefined;
  const standalone = new StandalonePtys({ bus, runtimeId, ...options, ...(host ? { backend: host } : {}) });
  const laneId: LaneId = createLaneId();
  return {
    bus,
    events,
    standalone,
    laneId,
    runtimeId,
    cwd,
    host,
    spawn: (spawnOptions: SpawnPtyOptions = BASH) => standalone.spawnPty(laneId, cwd, spawnOptions),
    eventsOf: (topic: string, pty?: Pty) =>
      events.filter(
        (e) => e.topic === topic && (pty === undefined || (e.payload as { ptyId?: string }).ptyId === pty.id),
      ),
    async dispose(): Promise<void> {
      await standalone.terminateAll(undefined, { graceMs: 500 });
      await host?.close();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** Collects a PTY's output: what it retains, then everything from now on. */
export function recordOutput(pty: Pty) {
  // What it printed before this call too (a child may print before its spawn resolves): the
  // scrollback and the subscription are taken in the same turn, so nothing falls between them.
  let text = pty.scrollback();
  pty.onData((chunk) => {
    text += chunk;
  });
  return {
    get text() {
      return text;
    },
    async waitFor(pattern: RegExp | string, timeoutMs = 5_000): Promise<void> {
      const matches = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      await waitUntil(
        matches,
        `output matching ${String(pattern)} (got ${JSON.stringify(text.slice(-200))})`,
        timeoutMs,
      );
    },
  };
}
