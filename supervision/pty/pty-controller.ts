import type { Subscription } from 'xstate';
import type { PtySession } from '../../actors/pty/backend.js';
import type { PtyProcessOptions } from '../../actors/pty/pty-process-actor.js';
import { errorMessage, LanevisorError } from '../../bus/errors.js';
import type { LaneId, PtyId } from '../../bus/ids.js';
import type { LifecyclePayload, LifecycleTopic } from '../../bus/lifecycle.js';
import { type PtySnapshot, ptyStateOf, throttleReasonOf } from '../../machines/pty.machine.js';
import type { PtyState as MachinePtyState } from '../../machines/pty-protocol.js';
import type { PtyActivity } from './activity-watch.js';
import {
  checkDimensions,
  checkListener,
  checkSignalName,
  checkWriteData,
  optionalGraceMs,
  optionalScrollbackLines,
} from './pty-arguments.js';
import { PtyEnding } from './pty-ending.js';
import { restartRequestOf, spawnedPayload, startRequestOf } from './pty-facts.js';
import { PtyOutput } from './pty-output.js';
import type { PtyControllerOptions } from './pty-owner.js';
import type { PtyActorRef } from './pty-process-directory.js';
import { RunningGeneration } from './running-generation.js';
import type { ResolvedSpawn } from './spawn-request.js';
import type { Pty, PtyExitResult, PtyScreenAt, PtyState, PtyTerminateResult } from './types.js';

/** The bus's list of states and the machine's are written twice (layers); this fails to compile if they differ. */
const statesAgree: [PtyState, MachinePtyState] extends [MachinePtyState, PtyState] ? true : false = true;
void statesAgree;

/**
 * One PTY: the public handle (the contract's `Pty`) over the PTY machine actors of its
 * generations (a restart is a new generation under the same id and handle) and their process
 * actor. Lifecycle goes through the machine; output and input go straight between the process
 * actor and this handle. Every transition and fact is published on the bus.
 */
export class PtyController implements Pty {
  readonly id: PtyId;
  readonly laneId: LaneId;
  readonly name: string;
  readonly sessionId: string | null;
  readonly terminalId: string | null;
  readonly restart: ResolvedSpawn['restart'];
  readonly exited: Promise<PtyExitResult>;
  #restarts = 0;
  #cols: number;
  #rows: number;
  #state: PtyState = 'idle';
  #actor: PtyActorRef | undefined;
  #subscription: Subscription | undefined;
  #idleThrottled = false;
  #correlationId: string;
  readonly #ending: PtyEnding;
  readonly #running: RunningGeneration;
  readonly #output: PtyOutput;
  readonly #process: PtyProcessOptions;

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
    this.#ending = new PtyEnding(this.id);
    this.exited = this.#ending.exited;
    this.#running = new RunningGeneration({
      idleTimeoutMs: limits.idleTimeoutMs,
      activity: options.activity,
      onIdle: () => {
        if (this.#state === 'active') this.#actor?.send({ type: 'IDLE' });
      },
      onActivity: (activity) => this.#publish('pty.activity', { ...this.#ref(), activity }),
    });
    this.#output = new PtyOutput(
      limits.outputBufferBytes,
      (behind) => this.#actor?.send({ type: behind ? 'CONSUMER_BEHIND' : 'CONSUMER_CAUGHT_UP' }),
      (batch) => this.#publish('pty.output', { ...this.#ref(), ...batch }),
      (error) => this.#publish('pty.error', { ...this.#ref(), code: 'LISTENER_ERROR', message: errorMessage(error) }),
      options.adoption?.startOffset ?? 0,
    );
    this.#restarts = options.adoption?.restarts ?? 0;
    this.#process = {
      backend: options.backend,
      request: startRequestOf(options),
      sink: {
        spawned: (session) => this.#onSpawned(session),
        data: (chunk, bytes) => this.#onData(chunk, bytes),
        signaled: (record) => this.#publish('pty.signal', { ...this.#ref(), ...record }),
        resized: (cols, rows) => this.#resized(cols, rows),
      },
      adopt: options.adoption !== undefined,
    };
    options.processes.register(identity.ptyId, this.#process);
    if (options.preface !== undefined) this.#output.push(options.preface);
  }

  get pid(): number {
    return this.#running.pid;
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

  get restarts(): number {
    return this.#restarts;
  }

  /** What its program is doing while it runs (see activity-watch.ts); null when it does not run. */
  get activity(): PtyActivity | null {
    return this.#running.activity;
  }

  /** Resolves once the first generation is active; rejects with SPAWN_ERROR if it could not start. */
  get started(): Promise<void> {
    return this.#ending.started;
  }

  /** Takes over a generation's machine actor (made by the owner) and starts its process. */
  attach(actor: PtyActorRef): void {
    this.#subscription?.unsubscribe();
    this.#actor = actor;
    this.#subscription = actor.subscribe({
      next: (snapshot) => this.#onSnapshot(snapshot),
      error: (error) => this.#onMachineError(error),
    });
    actor.send({ type: 'SPAWN' });
  }

  /** The owner restarts this PTY: the next generation is attached after its backoff. */
  restarting(): void {
    this.#restarts++;
    this.#process.request = restartRequestOf(this.#process.request, this.options.meta, this.#restarts);
  }

  write(data: string | Uint8Array): void {
    checkWriteData(data);
    this.#assertRunning('write to');
    this.#session().write(data);
    this.#running.input();
  }

  resize(cols: number, rows: number): void {
    checkDimensions(cols, rows);
    this.#assertRunning('resize');
    this.#output.flush();
    this.#actor?.send({ type: 'RESIZE', cols, rows });
    this.#resized(cols, rows);
  }

  #resized(cols: number, rows: number): void {
    this.#output.flush();
    this.#cols = cols;
    this.#rows = rows;
    this.#publish('pty.resized', { ...this.#ref(), cols, rows });
  }

  signal(name: string): void {
    checkSignalName(name);
    this.#assertRunning('signal');
    this.#actor?.send({ type: 'SIGNAL', signal: name });
  }

  onData(listener: (chunk: string, offset: number) => void): () => void {
    checkListener(listener, 'onData');
    return this.#output.onData(listener);
  }

  output(): AsyncIterable<string> {
    return this.#output.output();
  }

  scrollback(options: { readonly lastChars?: number } = {}): string {
    return this.#output.scrollback(options.lastChars);
  }

  async snapshot(options: { readonly scrollbackLines?: number } = {}): Promise<string> {
    return (await this.screen(options)).data;
  }

  async screen(options: { readonly scrollbackLines?: number } = {}): Promise<PtyScreenAt> {
    const lines = optionalScrollbackLines(options.scrollbackLines);
    this.#assertRunning('take a snapshot of');
    return this.#running.screen(this.#session(), lines);
  }

  terminate(options: { readonly graceMs?: number } = {}): Promise<PtyTerminateResult> {
    const graceMs = optionalGraceMs(options.graceMs);
    if (!this.#ending.finished) {
      this.#correlationId = this.options.bus.currentCorrelationId() ?? this.#correlationId;
      this.options.owner.terminate(this, graceMs);
    }
    return this.#ending.terminated;
  }

  /** The current generation's actor, for its owner (TERMINATE with a grace). */
  get actor(): PtyActorRef | undefined {
    return this.#actor;
  }

  /** Output figures, for benchmarks and diagnostics. */
  outputStats(): { totalBytes: number; retainedBytes: number; droppedBytes: number; pendingInputBytes: number } {
    return {
      totalBytes: this.#output.totalBytes,
      retainedBytes: this.#output.retainedBytes,
      droppedBytes: this.#output.droppedBytes,
      pendingInputBytes: this.#running.session?.pendingInputBytes ?? 0,
    };
  }

  /**
   * The PTY is finally done (no restart follows): pulling consumers end after the last byte, and
   * `exited` and `terminate()` resolve with how the last generation ended.
   */
  finish(): void {
    if (!this.#ending.finish()) return;
    this.#running.stop();
    this.#subscription?.unsubscribe();
    this.#output.end();
    this.options.processes.release(this.id);
  }

  #assertRunning(action: string): void {
    if (this.#state !== 'active' && this.#state !== 'throttled') {
      throw new LanevisorError('INVALID_STATE', `cannot ${action} PTY ${this.id}: it is ${this.#state}`, {
        details: { ptyId: this.id, state: this.#state },
      });
    }
  }

  /** The running generation's session; only called past #assertRunning. */
  #session(): PtySession {
    return this.#running.session as PtySession;
  }

  #ref(): { laneId: LaneId; ptyId: PtyId } {
    return { laneId: this.laneId, ptyId: this.id };
  }

  #publish<T extends LifecycleTopic>(topic: T, payload: LifecyclePayload<T>): void {
    this.options.bus.publishLifecycle(topic, payload, { correlationId: this.#correlationId });
  }

  #onSpawned(session: PtySession): void {
    this.#running.begin(session, this.#output.totalBytes);
    this.options.owner.spawned?.(this, session.started);
  }

  #onData(chunk: string, bytes: number | undefined): void {
    this.#running.touch();
    if (this.#idleThrottled) this.#actor?.send({ type: 'OUTPUT' });
    this.#output.push(chunk, bytes);
  }

  #onSnapshot(snapshot: PtySnapshot): void {
    const next = ptyStateOf(snapshot);
    this.#idleThrottled = throttleReasonOf(snapshot) === 'idle';
    // A new generation starts idle: the PTY keeps showing how the last one ended until it spawns.
    if (next === this.#state || next === 'idle') return;
    const from = this.#state;
    this.#state = next;
    // The process is reported between spawning and active, in the order things happened.
    const session = this.#running.session;
    if (from === 'spawning' && session !== undefined) {
      const now = { cols: this.#cols, rows: this.#rows, restarts: this.#restarts };
      this.#publish('pty.spawned', spawnedPayload(this.options, session.started, now));
    }
    this.#publish('pty.state_changed', { ...this.#ref(), from, to: next, reason: snapshot.context.reason });
    if (this.#idleThrottled)
      this.#publish('pty.idle', { ...this.#ref(), idleMs: Math.round(this.#running.silentForMs) });
    if (next === 'active') this.#ending.becameActive();
    if (next === 'errored' || next === 'stopped') this.#generationEnded(snapshot);
  }

  #generationEnded(snapshot: PtySnapshot): void {
    const { exit, failure, escalated } = snapshot.context;
    const spawned = this.#running.session !== undefined;
    const result = { exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, escalated };
    this.#ending.generationEnded(result, failure !== null && !spawned ? failure : undefined);
    this.#output.flush();
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
    this.#running.end();
    this.options.owner.generationEnded(this, snapshot.output);
  }

  /** A fault in the machine itself must not take the orchestrator down: the generation ends errored. */
  #onMachineError(error: unknown): void {
    const from = this.#state;
    this.#state = 'errored';
    this.#publish('pty.state_changed', { ...this.#ref(), from, to: 'errored', reason: 'crashed' });
    this.#publish('pty.error', { ...this.#ref(), code: 'ACTOR_ERROR', message: errorMessage(error) });
    this.#ending.generationEnded(undefined, errorMessage(error));
    this.#running.end();
    this.options.owner.generationEnded(this, undefined);
  }
}
