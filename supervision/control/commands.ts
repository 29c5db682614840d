import { z } from 'zod';
import { hasUncommittedWork } from '../../actors/git/salvage.js';
import { LanevisorError } from '../../bus/errors.js';
import { parseOrThrow } from '../../bus/validation.js';
import type { CreateLaneOptions, ExecOptions, Lane, MergeOptions } from '../lane/types.js';
import { dimensionSchema, spawnOptionsSchema } from '../pty/spawn-request.js';
import type { Pty, SpawnPtyOptions } from '../pty/types.js';
import type { Runtime } from '../runtime/types.js';
import { type LaneView, laneViewOf, ptyInfoOf } from './views.js';

/**
 * The runtime's operations, once, as commands on its bus: the control socket and the HTTP server
 * are thin adapters over these, so an operation added here is on every transport. Each input is
 * validated by its schema (VALIDATION_ERROR naming the field); a missing lane or PTY is NOT_FOUND;
 * everything else answers with the error the runtime itself gives.
 */
/**
 * What a transport that can stream gives a command besides its input: an exec's output as it
 * comes, its stdin and a way to stop it (the control socket does; the bus and HTTP do not).
 */
export type CommandContext = Pick<ExecOptions, 'onStdout' | 'onStderr' | 'stdin' | 'signal'>;

const laneRef = z.strictObject({ laneId: z.string().min(1).max(128) });
const ptyRef = z.strictObject({ ptyId: z.string().min(1).max(128) });
const agentIdSchema = z.string().min(1).max(128);

export const CONTROL_COMMANDS = {
  'runtime.info': {
    input: z.strictObject({}),
    run: (rt: Runtime) => ({
      id: rt.id,
      pid: process.pid,
      repo: rt.repo,
      startedAt: rt.startedAt,
      stateDir: rt.stateDir,
      worktreeRoot: rt.worktreeRoot,
      ptyHost: rt.ptyHost,
    }),
  },
  'lane.list': {
    input: z.strictObject({}),
    run: (rt: Runtime) => rt.lanes().map(laneViewOf),
  },
  'lane.get': {
    input: laneRef,
    run: (rt: Runtime, input: z.infer<typeof laneRef>) => laneViewOf(laneOf(rt, input.laneId)),
  },
  'lane.create': {
    input: z.strictObject({
      label: z.string().optional(),
      baseRef: z.string().optional(),
      agent: z.string().optional(),
      template: z.string().min(1).max(128).optional(),
      setup: z.literal(false).optional(),
    }),
    run: async (rt: Runtime, input: CreateLaneOptions) => laneViewOf(await rt.createLane(input)),
  },
  'lane.cleanup': {
    input: laneRef.extend({ discard: z.boolean().optional() }),
    run: (rt: Runtime, input: { laneId: string; discard?: boolean }) =>
      laneOf(rt, input.laneId).cleanup(input.discard === undefined ? {} : { discard: input.discard }),
  },
  'lane.exec': {
    input: laneRef.extend({
      argv: z.array(z.string().regex(/^[^\0]*$/)).min(1),
      timeoutMs: z.number().int().min(1).optional(),
      env: z.record(z.string().regex(/^[^=\0]+$/), z.string().regex(/^[^\0]*$/)).optional(),
    }),
    run: (
      rt: Runtime,
      input: { laneId: string; argv: string[]; timeoutMs?: number; env?: Record<string, string> },
      context?: CommandContext,
    ) =>
      laneOf(rt, input.laneId).exec(input.argv, {
        ...context,
        ...(input.env === undefined ? {} : { env: input.env }),
        ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
      }),
  },
  'lane.diff': {
    input: laneRef.extend({ base: z.string().min(1).max(1024).optional() }),
    run: (rt: Runtime, input: { laneId: string; base?: string }) =>
      laneOf(rt, input.laneId).diff(input.base === undefined ? {} : { base: input.base }),
  },
  'lane.commit': {
    input: laneRef.extend({
      message: z
        .string()
        .min(1)
        .max(64 * 1024),
    }),
    run: (rt: Runtime, input: { laneId: string; message: string }) => laneOf(rt, input.laneId).commit(input.message),
  },
  'lane.merge': {
    input: laneRef.extend({
      into: z.string().min(1).max(1024).optional(),
      strategy: z.enum(['merge', 'squash', 'rebase']).optional(),
      message: z
        .string()
        .min(1)
        .max(64 * 1024)
        .optional(),
      /** Clean the lane up once its work is merged. */
      clean: z.boolean().optional(),
    }),
    run: async (rt: Runtime, input: { laneId: string; clean?: boolean } & MergeOptions) => {
      const { laneId, clean, ...options } = input;
      const lane = laneOf(rt, laneId);
      const merged = await lane.merge(options);
      if (clean === true) return { ...merged, cleanup: await lane.cleanup() };
      // Only committed work is merged: whoever asked hears whether some stayed in the worktree.
      // The merge is done: a worktree that cannot be looked at (gone) must not turn it into a failure.
      const uncommitted = await hasUncommittedWork(lane.worktreePath).catch(() => undefined);
      return uncommitted === undefined ? merged : { ...merged, uncommitted };
    },
  },
  'lane.share': {
    input: laneRef,
    run: (rt: Runtime, input: { laneId: string }) => afterLane(rt, input.laneId, (lane) => lane.share()),
  },
  'lane.attach': {
    input: laneRef.extend({ agentId: agentIdSchema }),
    run: (rt: Runtime, input: { laneId: string; agentId: string }) =>
      afterLane(rt, input.laneId, (lane) => lane.attach(input.agentId)),
  },
  'lane.detach': {
    input: laneRef.extend({ agentId: agentIdSchema }),
    run: (rt: Runtime, input: { laneId: string; agentId: string }) =>
      afterLane(rt, input.laneId, (lane) => lane.detach(input.agentId)),
  },
  'lane.block': {
    input: laneRef.extend({ reason: z.string().min(1).max(1024) }),
    run: (rt: Runtime, input: { laneId: string; reason: string }) =>
      afterLane(rt, input.laneId, (lane) => lane.block(input.reason)),
  },
  'lane.unblock': {
    input: laneRef,
    run: (rt: Runtime, input: { laneId: string }) => afterLane(rt, input.laneId, (lane) => lane.unblock()),
  },
  'runtime.conflicts': {
    input: z.strictObject({}),
    run: (rt: Runtime) => rt.conflicts(),
  },
  'pty.spawn': {
    input: laneRef.extend({ options: spawnOptionsSchema.optional() }),
    run: async (rt: Runtime, input: { laneId: string; options?: SpawnPtyOptions }) =>
      ptyInfoOf(await laneOf(rt, input.laneId).spawnPty(input.options)),
  },
  'pty.get': {
    input: ptyRef,
    run: (rt: Runtime, input: { ptyId: string }) => ptyInfoOf(ptyOf(rt, input.ptyId)),
  },
  'pty.write': {
    input: ptyRef.extend({ data: z.string().min(1) }),
    run: (rt: Runtime, input: { ptyId: string; data: string }) => {
      ptyOf(rt, input.ptyId).write(input.data);
    },
  },
  'pty.resize': {
    input: ptyRef.extend({ cols: dimensionSchema, rows: dimensionSchema }),
    run: (rt: Runtime, input: { ptyId: string; cols: number; rows: number }) => {
      ptyOf(rt, input.ptyId).resize(input.cols, input.rows);
    },
  },
  'pty.signal': {
    input: ptyRef.extend({ signal: z.string().regex(/^SIG[A-Z0-9]+$/) }),
    run: (rt: Runtime, input: { ptyId: string; signal: string }) => {
      ptyOf(rt, input.ptyId).signal(input.signal);
    },
  },
  'pty.terminate': {
    input: ptyRef.extend({ graceMs: z.number().int().min(0).max(600_000).optional() }),
    run: (rt: Runtime, input: { ptyId: string; graceMs?: number }) =>
      ptyOf(rt, input.ptyId).terminate(input.graceMs === undefined ? {} : { graceMs: input.graceMs }),
  },
  'pty.scrollback': {
    input: ptyRef,
    run: (rt: Runtime, input: { ptyId: string }) => ({ data: ptyOf(rt, input.ptyId).scrollback() }),
  },
  'pty.snapshot': {
    input: ptyRef.extend({ scrollbackLines: z.number().int().min(0).max(100_000).optional() }),
    run: async (rt: Runtime, input: { ptyId: string; scrollbackLines?: number }) => {
      const pty = ptyOf(rt, input.ptyId);
      const options = input.scrollbackLines === undefined ? {} : { scrollbackLines: input.scrollbackLines };
      return { data: await pty.snapshot(options), cols: pty.cols, rows: pty.rows };
    },
  },
} as const;

export type ControlMethod = keyof typeof CONTROL_COMMANDS;
export const CONTROL_METHODS = Object.keys(CONTROL_COMMANDS) as ControlMethod[];

/** How long a command may take on the bus: an exec or a cleanup runs as long as it must. */
export const CONTROL_COMMAND_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * Registers every control command on the runtime's bus; returns what unregisters them. On a bus
 * that several live runtimes share, the first one's commands answer (one handler per method):
 * the others register none, so starting them never fails for it.
 */
export function registerControlCommands(rt: Runtime): () => void {
  const unregister: Array<() => void> = [];
  const off = () => {
    for (const one of unregister.splice(0)) one();
  };
  try {
    for (const method of CONTROL_METHODS) {
      const command = CONTROL_COMMANDS[method] as {
        readonly input: z.ZodType;
        readonly run: (rt: Runtime, input: unknown, context?: CommandContext) => unknown;
      };
      unregister.push(
        rt.bus.handle(method, (payload) => command.run(rt, parseOrThrow(command.input, payload ?? {}, method))),
      );
    }
  } catch (error) {
    off();
    if (!(error instanceof LanevisorError && error.code === 'ALREADY_EXISTS')) throw error;
  }
  return off;
}

function laneOf(rt: Runtime, laneId: string): Lane {
  const lane = rt.getLane(laneId);
  if (lane === undefined) {
    throw new LanevisorError('NOT_FOUND', `no open lane ${laneId} in this runtime; lanevisor ls lists them`, {
      details: { laneId },
    });
  }
  return lane;
}

/** A live PTY of any lane of the runtime, by id. */
export function findPty(rt: Runtime, ptyId: string): Pty | undefined {
  for (const lane of rt.lanes()) {
    const pty = lane.ptys().find((candidate) => candidate.id === ptyId);
    if (pty !== undefined) return pty;
  }
  return undefined;
}

function ptyOf(rt: Runtime, ptyId: string): Pty {
  const pty = findPty(rt, ptyId);
  if (pty === undefined) {
    throw new LanevisorError('NOT_FOUND', `no PTY ${ptyId} in this runtime's lanes`, { details: { ptyId } });
  }
  return pty;
}

/** A lane action answers with the lane as the action left it (its new state and agents). */
async function afterLane(rt: Runtime, laneId: string, action: (lane: Lane) => Promise<void>): Promise<LaneView> {
  const lane = laneOf(rt, laneId);
  await action(lane);
  return laneViewOf(lane);
}
