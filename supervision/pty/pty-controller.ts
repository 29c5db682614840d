import { constants as osConstants } from 'node:os';
import { z } from 'zod';
import type { PtyBackend } from '../../actors/pty/backend.js';
import type { PacedWriter } from '../../actors/pty/paced-writer.js';
import type { SpawnedPty } from '../../actors/pty/pty-process-actor.js';
import { errorMessage, LanevisorError } from '../../bus/errors.js';
import type { LaneId, PtyId } from '../../bus/ids.js';
import type { LifecyclePayload, LifecycleTopic } from '../../bus/lifecycle.js';
import type { LocalBus } from '../../bus/local-bus.js';
import { MAX_TIMEOUT_MS } from '../../bus/schemas.js';
import { parseOrThrow } from '../../bus/validation.js';
import { type PtySnapshot, ptyStateOf, throttleReasonOf } from '../../machines/pty.machine.js';
import type { PtyState as MachinePtyState } from '../../machines/pty-protocol.js';
import { deferred } from '../deferred.js';
import { IdleWatch } from './idle-watch.js';
import type { InspectOption, PtyActor, PtyActorFactory } from './pty-actor-factory.js';
import { PtyOutput } from './pty-output.js';
import { dimensionSchema, PTY_ID_VARIABLE, type PtyIdentity, type ResolvedSpawn } from './spawn-request.js';
import type { Pty, PtyExitResult, PtyState, PtyTerminateResult } from './types.js';

/** The bus's list of states and the machine's are written twice (layers); this fails to compile if they differ. */
const statesAgree: [PtyState, MachinePtyState] extends [MachinePtyState, PtyState] ? true : false = true;
void statesAgree;

export interface PtyLimits {
  readonly outputBufferBytes: number;
  /** null: never throttle for silence. */
  readonly idleTimeoutMs: number | null;
  readonly terminateGraceMs: number;
  readonly maxPendingInputBytes: number;
}

export interface PtyControllerOptions {
  readonly bus: LocalBus;
  readonly backend: PtyBackend;
  readonly identity: PtyIdentity;
  readonly spawn: ResolvedSpawn;
  readonly limits: PtyLimits;
  /** The operation that created the PTY: its events carry this id. */
  readonly correlationId: string;
  readonly actors: PtyActorFactory;
  readonly inspect?: InspectOption;
  readonly onSpawned?: (pty: PtyController, spawned: SpawnedPty) => void;
  readonly onFinished?: (pty: PtyController) => void;
}

const SIGNALS = new Set(Object.keys(osConstants.signals));
const graceMsSchema = z.number().int().min(0).max(MAX_TIMEOUT_MS);

/**
 * One PTY: the public handle (the contract's `Pty`) over a PTY machine actor and its process
 * actor. Lifecycle goes through the machine; the hot paths (output, input) go straight between
 * the process actor and this handle. Every transition and fact is published on the bus.
 */
export class PtyController implements Pty {
  readonly id: PtyId;
  readonly laneId: LaneId;
  readonly name: string;
  readonly sessionId: string | null;
  readonly terminalId: string | null;
  readonly restart: ResolvedSpawn['restart'];
  readonly restarts = 0;
  readonly exited: Promise<PtyExitResult>;
  #pid = 0;
  #cols: number;
  #rows: number;
  #state: PtyState = 'idle';
  #input: PacedWriter | undefined;
  #spawnedInfo: SpawnedPty | undefined;
  #idleThrottled = false;
  #correlationId: string;
  #result: PtyTerminateResult | undefined;
  readonly #started = deferred<void>();
  readonly #exited = deferred<PtyExitResult>();
  readonly #terminated = deferred<PtyTerminateResult>();
  readonly #idle: IdleWatch;
  readonly #output: PtyOutput;
  readonly #actor: PtyActor;

  constructor(private readonly options: PtyControllerOptions) {
    const { identity, spawn, limits } = options;
    this.id = identity.ptyId;
    this.laneId = identity.laneId;
    this.name = spawn.name;
    this.sessionId = spawn.sessionId;
    this.terminalId = spawn.terminalId;
    this.restart = spawn.restart;
    this.#cols = spawn.request.cols;
    this.#rows = spawn.request.rows;
    this.#correlationId = options.correlationId;
    this.exited = this.#exited.promise;
    // The caller of start() sees the rejection; nobody else must see it as unhandled.
    this.#started.promise.catch(() => undefined);
    this.#idle = new IdleWatch(limits.idleTimeoutMs, () => {
      if (this.#state === 'active') this.#actor.send({ type: 'IDLE' });
    });
    this.#output = new PtyOutput(
      limits.outputBufferBytes,
      (behind) => this.#actor.send({ type: behind ? 'CONSUMER_BEHIND' : 'CONSUMER_CAUGHT_UP' }),
      (batch) => this.#publish('pty.output', { ...this.#ref(), ...batch }),
      (error) => this.#publish('pty.error', { ...this.#ref(), code: 'LISTENER_ERROR', message: errorMessage(error) }),
    );
    this.#actor = options.actors.create(
      identity.ptyId,
      limits.terminateGraceMs,
      {
        backend: options.backend,
        request: spawn.request,
        tag: { name: PTY_ID_VARIABLE, value: identity.ptyId },
        maxPendingInputBytes: limits.maxPendingInputBytes,
        sink: {
          spawned: (spawned) => this.#spawned(spawned),
          data: (chunk) => this.#data(chunk),
          signaled: (record) => this.#publish('pty.signal', { ...this.#ref(), ...record }),
        },
      },
      options.inspect,
    );
    this.#actor.subscribe({
      next: (snapshot) => this.#onSnapshot(snapshot),
      error: (error) => this.#onMachineError(error),
    });
  }

  get pid(): number {
    return this.#pid;
  }

  get state(): PtyState {
    return this.#state;
  }

  get cols(): number {
    return this.#cols;
  }

  get rows(): number {
    return this.#rows;
  }

  /** Starts the process; resolves once the PTY is active, rejects with SPAWN_ERROR. */
  start(): Promise<void> {
    this.#actor.start();
    this.#actor.send({ type: 'SPAWN' });
    return this.#started.promise;
  }

  write(data: string | Uint8Array): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new LanevisorError('INVALID_ARGUMENT', 'write takes a string or a Uint8Array');
    }
    this.#assertRunning('write to');
    (this.#input as PacedWriter).write(data);
  }

  resize(cols: number, rows: number): void {
    parseOrThrow(dimensionSchema, cols, 'cols', 'INVALID_ARGUMENT');
    parseOrThrow(dimensionSchema, rows, 'rows', 'INVALID_ARGUMENT');
    this.#assertRunning('resize');
    this.#output.flush();
    this.#actor.send({ type: 'RESIZE', cols, rows });
    this.#cols = cols;
    this.#rows = rows;
    this.#publish('pty.resized', { ...this.#ref(), cols, rows });
  }

  signal(name: string): void {
    if (typeof name !== 'string' || !SIGNALS.has(name)) {
      throw new LanevisorError(
        'INVALID_ARGUMENT',
        `unknown signal ${JSON.stringify(name)}; use a name such as SIGINT or SIGHUP`,
      );
    }
    this.#assertRunning('signal');
    this.#actor.send({ type: 'SIGNAL', signal: name });
  }

  onData(listener: (chunk: string) => void): () => void {
    if (typeof listener !== 'function') throw new LanevisorError('INVALID_ARGUMENT', 'onData takes a function');
    return this.#output.onData(listener);
  }

  output(): AsyncIterable<string> {
    return this.#output.output();
  }

  scrollback(): string {
    return this.#output.scrollback();
  }

  terminate(options: { readonly graceMs?: number } = {}): Promise<PtyTerminateResult> {
    const graceMs =
      options.graceMs === undefined
        ? undefined
        : parseOrThrow(graceMsSchema, options.graceMs, 'graceMs', 'INVALID_ARGUMENT');
    if (this.#result === undefined) {
      this.#correlationId = this.options.bus.currentCorrelationId() ?? this.#correlationId;
      this.#actor.send(graceMs === undefined ? { type: 'TERMINATE' } : { type: 'TERMINATE', graceMs });
    }
    return this.#terminated.promise;
  }

  /** Output figures, for benchmarks and diagnostics. */
  outputStats(): { totalBytes: number; retainedBytes: number; droppedBytes: number; pendingInputBytes: number } {
    return {
      totalBytes: this.#output.totalBytes,
      retainedBytes: this.#output.retainedBytes,
      droppedBytes: this.#output.droppedBytes,
      pendingInputBytes: this.#input?.pendingBytes ?? 0,
    };
  }

  #assertRunning(action: string): void {
    if (this.#state !== 'active' && this.#state !== 'throttled') {
      throw new LanevisorError('INVALID_STATE', `cannot ${action} PTY ${this.id}: it is ${this.#state}`, {
        details: { ptyId: this.id, state: this.#state },
      });
    }
  }

  #ref(): { laneId: LaneId; ptyId: PtyId } {
    return { laneId: this.laneId, ptyId: this.id };
  }

  #publish<T extends LifecycleTopic>(topic: T, payload: LifecyclePayload<T>): void {
    this.options.bus.publishLifecycle(topic, payload, { correlationId: this.#correlationId });
  }

  #spawned(spawned: SpawnedPty): void {
    this.#pid = spawned.pid;
    this.#input = spawned.input;
    this.#spawnedInfo = spawned;
    this.options.onSpawned?.(this, spawned);
    this.#idle.start();
  }

  #publishSpawned(spawned: SpawnedPty): void {
    const { request } = this.options.spawn;
    this.#publish('pty.spawned', {
      ...this.#ref(),
      pid: spawned.pid,
      pgid: spawned.pgid,
      sid: spawned.sid,
      startTime: spawned.startTime,
      command: spawned.file,
      args: [...request.args],
      cwd: request.cwd,
      cols: this.#cols,
      rows: this.#rows,
      name: this.name,
      sessionId: this.sessionId,
      terminalId: this.terminalId,
      restarts: this.restarts,
    });
  }

  #data(chunk: string): void {
    this.#idle.touch();
    if (this.#idleThrottled) this.#actor.send({ type: 'OUTPUT' });
    this.#output.push(chunk);
  }

  #onSnapshot(snapshot: PtySnapshot): void {
    const next = ptyStateOf(snapshot);
    this.#idleThrottled = throttleReasonOf(snapshot) === 'idle';
    if (next === this.#state) return;
    const from = this.#state;
    this.#state = next;
    // The process is reported between spawning and active, in the order things happened.
    if (this.#spawnedInfo !== undefined && from === 'spawning') this.#publishSpawned(this.#spawnedInfo);
    this.#publish('pty.state_changed', { ...this.#ref(), from, to: next, reason: snapshot.context.reason });
    if (this.#idleThrottled) {
      this.#publish('pty.idle', { ...this.#ref(), idleMs: Math.round(this.#idle.silentForMs) });
    }
    if (next === 'active') this.#started.resolve();
    if (next === 'errored' || next === 'stopped') this.#finish(snapshot);
  }

  #finish(snapshot: PtySnapshot): void {
    const { exit, failure, escalated } = snapshot.context;
    const result = { exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, escalated };
    const spawned = this.#spawnedInfo !== undefined;
    this.#output.end();
    if (failure !== null) {
      this.#publish('pty.error', { ...this.#ref(), code: spawned ? 'ACTOR_ERROR' : 'SPAWN_ERROR', message: failure });
    }
    if (spawned) {
      this.#publish('pty.stopped', {
        ...this.#ref(),
        state: this.#state as 'stopped' | 'errored',
        ...result,
        outputBytes: this.#output.totalBytes,
        droppedBytes: this.#output.droppedBytes,
      });
    }
    this.#settle(result, failure ?? 'the process did not start');
  }

  /** A fault in the machine itself must not take the orchestrator down: the PTY ends errored. */
  #onMachineError(error: unknown): void {
    const from = this.#state;
    this.#state = 'errored';
    this.#output.end();
    this.#publish('pty.state_changed', { ...this.#ref(), from, to: 'errored', reason: 'crashed' });
    this.#publish('pty.error', { ...this.#ref(), code: 'ACTOR_ERROR', message: errorMessage(error) });
    this.#settle({ exitCode: null, signal: null, escalated: false }, errorMessage(error));
  }

  /** The PTY is finally done: every waiter learns it, and its host forgets it. */
  #settle(result: PtyTerminateResult, startFailure: string): void {
    this.#result = result;
    this.#idle.stop();
    // Settling an already settled promise does nothing: only a PTY that never became active rejects.
    this.#started.reject(new LanevisorError('SPAWN_ERROR', startFailure, { details: { ptyId: this.id } }));
    this.options.actors.release(this.id);
    this.options.onFinished?.(this);
    this.#exited.resolve({ exitCode: result.exitCode, signal: result.signal });
    this.#terminated.resolve(result);
  }
}
