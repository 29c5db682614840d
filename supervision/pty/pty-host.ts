import { statSync } from 'node:fs';
import { z } from 'zod';
import type { PtyBackend } from '../../actors/pty/backend.js';
import { nodePtyBackend } from '../../actors/pty/node-pty-backend.js';
import { DEFAULT_OUTPUT_BUFFER_BYTES } from '../../actors/pty/output-buffer.js';
import { DEFAULT_MAX_PENDING_INPUT_BYTES } from '../../actors/pty/paced-writer.js';
import { LanevisorError } from '../../bus/errors.js';
import { createCorrelationId, createPtyId, isLaneId, type LaneId, type PtyId, type RuntimeId } from '../../bus/ids.js';
import type { LocalBus } from '../../bus/local-bus.js';
import { MAX_TIMEOUT_MS } from '../../bus/schemas.js';
import { parseOrThrow } from '../../bus/validation.js';
import { PtyActorFactory } from './pty-actor-factory.js';
import { PtyController, type PtyControllerOptions, type PtyLimits } from './pty-controller.js';
import { PtyRegistry } from './pty-registry.js';
import { createBaseEnvironment, resolveSpawn } from './spawn-request.js';
import type { Pty, PtyTerminateResult, SpawnPtyOptions } from './types.js';

export const DEFAULT_MAX_PTYS = 1024;
export const DEFAULT_TERMINATE_GRACE_MS = 5_000;

const limitsSchema = z.strictObject({
  outputBufferBytes: z.number().int().min(1).optional(),
  idleTimeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
  terminateGraceMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  maxPendingInputBytes: z.number().int().min(1).optional(),
});

export interface PtyHostOptions {
  readonly bus: LocalBus;
  readonly runtimeId: RuntimeId;
  readonly backend?: PtyBackend;
  readonly pty?: z.input<typeof limitsSchema>;
  readonly maxPtys?: number;
  readonly inspect?: PtyControllerOptions['inspect'];
}

/**
 * Hosts the PTYs of a runtime until lanes own them (the lanes issue moves this under each lane's
 * supervisor): spawns them with the runtime's limits, keeps the registry, and stops them in
 * reverse start order.
 */
export class PtyHost {
  readonly registry = new PtyRegistry();
  readonly #live = new Map<PtyId, PtyController>();
  readonly #actors = new PtyActorFactory();
  readonly #baseEnv = createBaseEnvironment();
  readonly #limits: PtyLimits;
  readonly #maxPtys: number;

  constructor(private readonly options: PtyHostOptions) {
    const limits = parseOrThrow(limitsSchema, options.pty ?? {}, 'pty', 'INVALID_ARGUMENT');
    this.#limits = {
      outputBufferBytes: limits.outputBufferBytes ?? DEFAULT_OUTPUT_BUFFER_BYTES,
      idleTimeoutMs: limits.idleTimeoutMs ?? null,
      terminateGraceMs: limits.terminateGraceMs ?? DEFAULT_TERMINATE_GRACE_MS,
      maxPendingInputBytes: limits.maxPendingInputBytes ?? DEFAULT_MAX_PENDING_INPUT_BYTES,
    };
    this.#maxPtys = parseOrThrow(
      z.number().int().min(1),
      options.maxPtys ?? DEFAULT_MAX_PTYS,
      'maxPtys',
      'INVALID_ARGUMENT',
    );
  }

  /** Resolves when the PTY is active; rejects with SPAWN_ERROR (the PTY ends errored), CAPACITY or INVALID_ARGUMENT. */
  async spawnPty(laneId: LaneId, cwd: string, options?: SpawnPtyOptions): Promise<Pty> {
    if (!isLaneId(laneId)) throw new LanevisorError('INVALID_ARGUMENT', `not a lane id: ${JSON.stringify(laneId)}`);
    assertDirectory(cwd);
    if (this.#live.size >= this.#maxPtys) {
      throw new LanevisorError(
        'CAPACITY',
        `${this.#live.size} PTYs are running, the most this runtime allows (maxPtys ${this.#maxPtys})`,
      );
    }
    const ptyId = createPtyId();
    const spawn = resolveSpawn(options, { ptyId, laneId, runtimeId: this.options.runtimeId, cwd }, this.#baseEnv);
    const controller = new PtyController({
      bus: this.options.bus,
      actors: this.#actors,
      backend: this.options.backend ?? nodePtyBackend,
      identity: { ptyId, laneId, runtimeId: this.options.runtimeId, cwd },
      spawn,
      limits: this.#limits,
      correlationId: this.options.bus.currentCorrelationId() ?? createCorrelationId(),
      ...(this.options.inspect ? { inspect: this.options.inspect } : {}),
      onSpawned: (pty, spawned) =>
        this.registry.record({
          ptyId: pty.id,
          laneId: pty.laneId,
          sessionId: pty.sessionId,
          terminalId: pty.terminalId,
          name: pty.name,
          pid: spawned.pid,
          pgid: spawned.pgid,
          sid: spawned.sid,
          startTime: spawned.startTime,
          spawnedAt: Date.now(),
        }),
      onFinished: (pty) => {
        this.#live.delete(pty.id);
        this.registry.remove(pty.id);
      },
    });
    this.#live.set(ptyId, controller);
    await controller.start();
    return controller;
  }

  /** Running PTYs (of one lane, or all), in start order. */
  ptys(laneId?: LaneId): Pty[] {
    return [...this.#live.values()].filter((pty) => laneId === undefined || pty.laneId === laneId);
  }

  get(ptyId: PtyId): Pty | undefined {
    return this.#live.get(ptyId);
  }

  /** Terminates every running PTY (of one lane, or all) in reverse start order, one after the other. */
  async terminateAll(laneId?: LaneId, options?: { graceMs?: number }): Promise<PtyTerminateResult[]> {
    const results: PtyTerminateResult[] = [];
    for (const pty of this.ptys(laneId).reverse()) results.push(await pty.terminate(options));
    return results;
  }
}

function assertDirectory(cwd: string): void {
  let isDirectory = false;
  try {
    isDirectory = typeof cwd === 'string' && statSync(cwd).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) throw new LanevisorError('INVALID_ARGUMENT', `cwd is not a directory: ${JSON.stringify(cwd)}`);
}
