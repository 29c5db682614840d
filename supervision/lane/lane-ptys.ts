import type { LaneId } from '../../bus/ids.js';
import type { LaneEvent } from '../../machines/lane/lane-protocol.js';
import { ptyChildId } from '../../machines/lane/lane-protocol.js';
import type { PtyOutcome } from '../../machines/pty.machine.js';
import type { Adoptable } from '../pty/pty-adoption.js';
import type { PtyController } from '../pty/pty-controller.js';
import type { PtyOwner } from '../pty/pty-owner.js';
import type { PtyActorRef } from '../pty/pty-process-directory.js';
import type { Pty, SpawnPtyOptions } from '../pty/types.js';
import type { RuntimeContext } from '../runtime/runtime-context.js';

/**
 * A lane's PTYs: their handles, made in the lane's worktree with its environment, each one's
 * generations spawned by the lane machine (which decides restarts: its verdicts come back as the
 * events the controller forwards here).
 */
export class LanePtys implements PtyOwner {
  readonly #ptys = new Map<string, PtyController>();

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly lane: {
      readonly id: LaneId;
      readonly worktreePath: string;
      readonly env: Readonly<Record<string, string>>;
    },
    private readonly send: (event: LaneEvent) => void,
    private readonly correlationId: () => string,
  ) {}

  list(): Pty[] {
    return [...this.#ptys.values()];
  }

  get(ptyId: string): PtyController | undefined {
    return this.#ptys.get(ptyId);
  }

  /** How many run now (what a cleanup will stop). */
  running(): number {
    return [...this.#ptys.values()].filter((pty) => pty.state === 'active' || pty.state === 'throttled').length;
  }

  spawn(options: SpawnPtyOptions | undefined): Promise<Pty> {
    const { id, worktreePath, env } = this.lane;
    return this.#run(() => this.ctx.ptys.create(id, worktreePath, options, this, env), this.correlationId());
  }

  /** Takes over a PTY a dead runtime left in the terminal host: same id, pid, restart type and generation. */
  adopt(adoptable: Adoptable): Promise<Pty> {
    const { id, worktreePath, env } = this.lane;
    return this.#run(
      () => this.ctx.ptys.adopt(id, worktreePath, adoptable, this, env),
      this.correlationId(),
      adoptable.meta.restarts + 1,
    );
  }

  /** Starts again a PTY whose processes were lost (a reboot), under its id, its old screen shown first. */
  revive(ptyId: string, options: SpawnPtyOptions, preface: string): Promise<Pty> {
    const { id, worktreePath, env } = this.lane;
    return this.#run(
      () => this.ctx.ptys.revive(id, worktreePath, { ptyId, options, preface }, this, env),
      this.correlationId(),
    );
  }

  /** The lane machine spawned a generation: its PTY's handle takes it over (and starts its process). */
  generationStarted(children: Record<string, unknown>, ptyId: string, generation: number): void {
    const ref = children[ptyChildId(ptyId, generation)] as PtyActorRef | undefined;
    if (ref !== undefined) this.#ptys.get(ptyId)?.attach(ref);
  }

  /** No generation follows: the PTY is done. */
  finished(ptyId: string): void {
    this.#ptys.get(ptyId)?.finish();
    this.#ptys.delete(ptyId);
  }

  finishAll(): void {
    for (const pty of this.#ptys.values()) pty.finish();
  }

  // PtyOwner: the lane machine decides restarts; its verdicts arrive as emitted events.
  generationEnded(_pty: PtyController, _outcome: PtyOutcome | undefined): void {}

  terminate(pty: PtyController, graceMs: number | undefined): void {
    this.send({
      type: 'STOP_PTY',
      ptyId: pty.id,
      ...(graceMs === undefined ? {} : { graceMs }),
      correlationId: this.correlationId(),
    });
  }

  /** Makes the PTY's handle, has the lane machine spawn its generation, and waits until it runs and is journaled. */
  async #run(make: () => PtyController, correlationId: string, generation?: number): Promise<Pty> {
    const pty = this.ctx.bus.withCorrelation(correlationId, make);
    this.#ptys.set(pty.id, pty);
    this.send({
      type: 'SPAWN_PTY',
      ptyId: pty.id,
      restart: pty.restart,
      graceMs: this.ctx.ptys.limits.terminateGraceMs,
      correlationId,
      ...(generation === undefined ? {} : { generation }),
    });
    await pty.started;
    // The caller learns of the PTY once a runtime started after a crash would find it.
    await this.ctx.journal.settled(pty.id);
    return pty;
  }
}
