import { z } from 'zod';
import { runCommand } from '../../actors/exec/run-command.js';
import { LanevisorError } from '../../bus/errors.js';
import type { LifecyclePayload, LifecycleTopic } from '../../bus/lifecycle.js';
import { timeoutMsSchema } from '../../bus/schemas.js';
import { parseOrThrow } from '../../bus/validation.js';
import { type Deferred, deferred } from '../deferred.js';
import { LANE_ID_VARIABLE, RUNTIME_ID_VARIABLE } from '../pty/spawn-request.js';
import type { RuntimeContext } from '../runtime/runtime-context.js';
import type { ExecOptions, ExecResult } from './types.js';

export const EXEC_ID_VARIABLE = 'LANEVISOR_EXEC_ID';

const argvSchema = z.array(z.string().regex(/^[^\0]*$/, 'may not hold NUL')).min(1, 'must name a command');
const execOptionsSchema = z.strictObject({
  timeoutMs: timeoutMsSchema.optional(),
  env: z.record(z.string().regex(/^[^=\0]+$/), z.string().regex(/^[^\0]*$/)).optional(),
  stdin: z
    .custom<NodeJS.ReadableStream>(
      (value) => typeof (value as { pipe?: unknown } | null)?.pipe === 'function',
      'must be a readable stream',
    )
    .optional(),
  onStdout: z.custom<(chunk: string) => void>((value) => typeof value === 'function', 'must be a function').optional(),
  onStderr: z.custom<(chunk: string) => void>((value) => typeof value === 'function', 'must be a function').optional(),
  signal: z.instanceof(AbortSignal, { message: 'must be an AbortSignal' }).optional(),
});

interface ExecJob {
  started: boolean;
  readonly argv: readonly string[];
  readonly options: z.infer<typeof execOptionsSchema>;
  readonly result: Deferred<ExecResult>;
}

/**
 * The commands run in one lane: validated and registered by `lane.exec`, started by the lane's
 * exec actor when the lane machine gives it its turn, each in its own process tree.
 */
export class LaneExecs {
  readonly #jobs = new Map<string, ExecJob>();
  #counter = 0;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly laneId: string,
    private readonly worktreePath: string,
    /** The lane's environment: the orchestrator's, without what lanevisor.json denies, with what it sets. */
    private readonly env: Readonly<Record<string, string>>,
    private readonly publish: <T extends LifecycleTopic>(topic: T, payload: LifecyclePayload<T>) => void,
  ) {}

  /** Validates a request (INVALID_ARGUMENT naming the field). */
  validate(argv: readonly string[], options: ExecOptions = {}): Pick<ExecJob, 'argv' | 'options'> {
    return {
      argv: parseOrThrow(argvSchema, argv, 'argv', 'INVALID_ARGUMENT'),
      options: parseOrThrow(execOptionsSchema, options, 'options', 'INVALID_ARGUMENT'),
    };
  }

  /** Registers a validated request; the returned id goes to the lane machine. */
  register(request: Pick<ExecJob, 'argv' | 'options'>): { execId: string; result: Promise<ExecResult> } {
    const execId = `exec_${++this.#counter}`;
    const result = deferred<ExecResult>();
    this.#jobs.set(execId, { ...request, started: false, result });
    return { execId, result: result.promise };
  }

  /** Runs a registered command to its end; its caller learns the result (or SPAWN_ERROR). */
  async run(execId: string, signal: AbortSignal): Promise<void> {
    const job = this.#jobs.get(execId);
    if (job === undefined) return;
    job.started = true;
    this.publish('lane.command_started', { laneId: this.laneId, execId, argv: [...job.argv] });
    try {
      const result = await runCommand({
        argv: job.argv,
        cwd: this.worktreePath,
        env: {
          ...this.env,
          ...job.options.env,
          [LANE_ID_VARIABLE]: this.laneId,
          [RUNTIME_ID_VARIABLE]: this.ctx.runtimeId,
          [EXEC_ID_VARIABLE]: `${this.laneId}/${execId}`,
        },
        ...(job.options.timeoutMs === undefined ? {} : { timeoutMs: job.options.timeoutMs }),
        ...(job.options.stdin === undefined ? {} : { stdin: job.options.stdin }),
        ...(job.options.onStdout === undefined ? {} : { onStdout: job.options.onStdout }),
        ...(job.options.onStderr === undefined ? {} : { onStderr: job.options.onStderr }),
        tag: { name: EXEC_ID_VARIABLE, value: `${this.laneId}/${execId}` },
        graceMs: this.ctx.execGraceMs,
        signal: job.options.signal ? AbortSignal.any([signal, job.options.signal]) : signal,
      });
      this.publish('lane.command_completed', {
        laneId: this.laneId,
        execId,
        exitCode: result.exitCode,
        signal: result.signal,
        durationMs: result.durationMs,
        timedOut: result.timedOut,
      });
      job.result.resolve(result);
    } catch (error) {
      job.result.reject(error instanceof LanevisorError ? error : new LanevisorError('SPAWN_ERROR', String(error)));
    } finally {
      this.#jobs.delete(execId);
    }
  }

  /** Requests the lane will never run (it is being cleaned): their callers are told. Started ones end on their own. */
  abandonWaiting(): void {
    for (const [execId, job] of this.#jobs) if (!job.started) this.#abandon(execId);
  }

  #abandon(execId: string): void {
    const job = this.#jobs.get(execId);
    if (job === undefined) return;
    this.#jobs.delete(execId);
    job.result.reject(
      new LanevisorError('INVALID_STATE', `lane ${this.laneId} was cleaned up before this command could run`),
    );
  }
}
