import { statSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_SCROLLBACK_LINES, type PtyBackend } from '../../actors/pty/backend.js';
import { DEFAULT_OUTPUT_BUFFER_BYTES } from '../../actors/pty/output-buffer.js';
import { DEFAULT_MAX_PENDING_INPUT_BYTES } from '../../actors/pty/paced-writer.js';
import { LanevisorError } from '../../bus/errors.js';
import {
  createCorrelationId,
  createPtyId,
  isLaneId,
  isPtyId,
  type LaneId,
  type PtyId,
  type RuntimeId,
} from '../../bus/ids.js';
import type { LocalBus } from '../../bus/local-bus.js';
import { MAX_TIMEOUT_MS } from '../../bus/schemas.js';
import { parseOrThrow } from '../../bus/validation.js';
import type { PtyJournalRecord } from '../state/process-journal.js';
import { ActivityClock } from './activity-watch.js';
import { type Adoptable, ptyMetaOf } from './pty-adoption.js';
import { PtyController } from './pty-controller.js';
import type { PtyLimits, PtyOwner } from './pty-owner.js';
import { PtyProcessDirectory } from './pty-process-directory.js';
import { PtyRegistry } from './pty-registry.js';
import { createBaseEnvironment, resolveSpawn } from './spawn-request.js';
import type { SpawnPtyOptions } from './types.js';

export const DEFAULT_MAX_PTYS = 1024;
export const DEFAULT_TERMINATE_GRACE_MS = 5_000;

export const ptyLimitsSchema = z.strictObject({
  /** Where terminals run: the terminal host process, or this one. The runtime picks the backend by it. */
  host: z.enum(['process', 'inline']).optional(),
  lingerMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  scrollbackLines: z.number().int().min(0).max(100_000).optional(),
  outputBufferBytes: z.number().int().min(1).optional(),
  idleTimeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
  terminateGraceMs: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  maxPendingInputBytes: z.number().int().min(1).optional(),
});

export interface PtyFactoryOptions {
  readonly bus: LocalBus;
  readonly runtimeId: RuntimeId;
  /** What runs the terminals (the runtime picks it: inline node-pty, or the terminal host). */
  readonly backend: PtyBackend;
  readonly pty?: z.input<typeof ptyLimitsSchema>;
  readonly maxPtys?: number;
  /** Where running PTYs are also written down, so a runtime started after a crash finds them. */
  readonly journal?: PtyJournal;
}

export interface PtyJournal {
  ptySpawned(record: PtyJournalRecord): void;
  ptyStopped(ptyId: PtyId): void;
}

/**
 * Makes the PTYs of a runtime: validates requests, applies the runtime's limits (maxPtys,
 * buffer, grace), builds the environment, and keeps the registry of running PTYs. Who runs each
 * PTY's generations (a lane supervisor, the standalone host) is the owner passed in.
 */
export class PtyFactory {
  readonly registry = new PtyRegistry();
  readonly processes = new PtyProcessDirectory();
  readonly limits: PtyLimits;
  readonly #live = new Map<PtyId, PtyController>();
  readonly #baseEnv = createBaseEnvironment();
  readonly #maxPtys: number;
  readonly #activity = new ActivityClock();

  constructor(private readonly options: PtyFactoryOptions) {
    const limits = parseOrThrow(ptyLimitsSchema, options.pty ?? {}, 'pty', 'INVALID_ARGUMENT');
    this.limits = {
      outputBufferBytes: limits.outputBufferBytes ?? DEFAULT_OUTPUT_BUFFER_BYTES,
      scrollbackLines: limits.scrollbackLines ?? DEFAULT_SCROLLBACK_LINES,
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

  get maxPtys(): number {
    return this.#maxPtys;
  }

  /** Running PTYs (of one lane, or all), in start order. */
  live(laneId?: LaneId): PtyController[] {
    return [...this.#live.values()].filter((pty) => laneId === undefined || pty.laneId === laneId);
  }

  /** Validates and makes a PTY (not started: its owner attaches its first generation). */
  create(
    laneId: LaneId,
    cwd: string,
    options: SpawnPtyOptions | undefined,
    owner: PtyOwner,
    baseEnv: Readonly<Record<string, string>> = this.#baseEnv,
  ): PtyController {
    return this.#make(laneId, cwd, options, owner, createPtyId(), undefined, undefined, baseEnv);
  }

  /**
   * A PTY started again after its processes were lost (a reboot, a linger that ran out), under
   * its old id, showing `preface` (its restored screen) above the new program's output.
   */
  revive(
    laneId: LaneId,
    cwd: string,
    revival: { ptyId: string; options: SpawnPtyOptions; preface: string },
    owner: PtyOwner,
    baseEnv: Readonly<Record<string, string>> = this.#baseEnv,
  ): PtyController {
    if (!isPtyId(revival.ptyId)) throw new LanevisorError('INVALID_ARGUMENT', `not a PTY id: ${revival.ptyId}`);
    return this.#make(laneId, cwd, revival.options, owner, revival.ptyId, undefined, revival.preface, baseEnv);
  }

  /** A PTY a dead runtime left running in the terminal host, made again under its own id: its first generation adopts it. */
  adopt(
    laneId: LaneId,
    cwd: string,
    adoptable: Adoptable,
    owner: PtyOwner,
    baseEnv: Readonly<Record<string, string>> = this.#baseEnv,
  ): PtyController {
    if (!isPtyId(adoptable.info.ptyId))
      throw new LanevisorError('INVALID_ARGUMENT', `not a PTY id: ${adoptable.info.ptyId}`);
    // The terminal's size now, which its last runtime may have changed since the spawn.
    const { cols, rows } = adoptable.info;
    const options = { ...(adoptable.meta.options as SpawnPtyOptions), cols, rows };
    return this.#make(
      laneId,
      cwd,
      options,
      owner,
      adoptable.info.ptyId,
      { startOffset: adoptable.info.retainedFrom, restarts: adoptable.meta.restarts },
      undefined,
      baseEnv,
    );
  }

  #make(
    laneId: LaneId,
    cwd: string,
    options: SpawnPtyOptions | undefined,
    owner: PtyOwner,
    ptyId: PtyId,
    adoption: { startOffset: number; restarts: number } | undefined,
    preface: string | undefined,
    baseEnv: Readonly<Record<string, string>>,
  ): PtyController {
    if (!isLaneId(laneId)) throw new LanevisorError('INVALID_ARGUMENT', `not a lane id: ${JSON.stringify(laneId)}`);
    assertDirectory(cwd);
    if (this.#live.size >= this.#maxPtys) {
      throw new LanevisorError(
        'CAPACITY',
        `${this.#live.size} PTYs are running, the most this runtime allows (maxPtys ${this.#maxPtys})`,
      );
    }
    const identity = { ptyId, laneId, runtimeId: this.options.runtimeId, cwd };
    const meta = ptyMetaOf(laneId, options, adoption?.restarts ?? 0);
    const pty = new PtyController({
      bus: this.options.bus,
      backend: this.options.backend,
      processes: this.processes,
      identity,
      spawn: resolveSpawn(options, identity, baseEnv),
      limits: this.limits,
      correlationId: this.options.bus.currentCorrelationId() ?? createCorrelationId(),
      activity: this.#activity,
      meta,
      ...(adoption === undefined ? {} : { adoption }),
      ...(preface === undefined ? {} : { preface }),
      owner: {
        generationEnded: (controller, outcome) => owner.generationEnded(controller, outcome),
        terminate: (controller, graceMs) => owner.terminate(controller, graceMs),
        spawned: (controller, spawned) => {
          this.options.journal?.ptySpawned({
            version: 1,
            ptyId: controller.id,
            laneId: controller.laneId,
            runtimeId: this.options.runtimeId,
            pid: spawned.pid,
            pgid: spawned.pgid,
            sid: spawned.sid,
            startTime: spawned.startTime,
            spawnedAt: Date.now(),
            restart: controller.restart,
            options: meta.options,
          });
          this.registry.record({
            ptyId: controller.id,
            laneId: controller.laneId,
            sessionId: controller.sessionId,
            terminalId: controller.terminalId,
            name: controller.name,
            pid: spawned.pid,
            pgid: spawned.pgid,
            sid: spawned.sid,
            startTime: spawned.startTime,
            spawnedAt: Date.now(),
          });
          owner.spawned?.(controller, spawned);
        },
      },
    });
    this.#live.set(ptyId, pty);
    void pty.exited.then(() => {
      this.#live.delete(ptyId);
      this.registry.remove(ptyId);
      this.options.journal?.ptyStopped(ptyId);
    });
    return pty;
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
