import { createRuntimeId } from '../../bus/ids.js';
import { asLocalBus, createBus } from '../../bus/local-bus.js';
import type { Bus } from '../../bus/types.js';
import { DEFAULT_RESTART_INTENSITY } from '../../machines/restart-policy.js';
import { PtyFactory } from '../pty/pty-factory.js';
import { createBaseEnvironment } from '../pty/spawn-request.js';
import { readStartupFacts, type StartupFacts } from '../recovery/startup-facts.js';
import { LanevisorRuntime } from './lanevisor-runtime.js';
import { openPtyBackend, type RuntimePtyBackend } from './pty-backend.js';
import type { RuntimeContext } from './runtime-context.js';
import {
  DEFAULT_EXEC_GRACE_MS,
  DEFAULT_MAX_LANES,
  DEFAULT_TASK_HEALTH,
  openRuntimePlace,
  taskBackendOf,
} from './runtime-setup.js';
import { combineInspectors, createTraceWriter, type TraceWriter } from './trace.js';
import type { Runtime, RuntimeOptions } from './types.js';

/** Starts a runtime on a repository; resolves once what an earlier runtime left is reconciled. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const bus = asLocalBus((options.bus as Bus | undefined) ?? createBus());
  const runtimeId = createRuntimeId();
  const place = await openRuntimePlace(options, runtimeId);
  const { parsed } = place;
  let trace: TraceWriter | undefined;
  let terminals: RuntimePtyBackend | undefined;
  let facts: Promise<StartupFacts> | undefined;
  try {
    // Before anything is started: a crash from here on leaves processes tagged with this id.
    await place.journal.addRuntime({ version: 1, runtimeId, pid: process.pid, startedAt: Date.now() });
    // What the reconciliation reads first, read (and `git worktree list` run) while the host is reached.
    facts = readStartupFacts(place);
    facts.catch(() => undefined);
    terminals = await openPtyBackend(options, { stateDir: place.stateDir, runtimeId, bus });
    const ctx: RuntimeContext = {
      bus,
      runtimeId,
      repository: place.repository,
      stateDir: place.stateDir,
      worktreeRoot: place.worktreeRoot,
      records: place.records,
      journal: place.journal,
      ptys: new PtyFactory({
        bus,
        runtimeId,
        backend: terminals.backend,
        journal: place.journal,
        ...(parsed.pty ? { pty: parsed.pty } : {}),
        ...(parsed.maxPtys ? { maxPtys: parsed.maxPtys } : {}),
      }),
      task: taskBackendOf(options.task),
      taskHealth: {
        intervalMs: parsed.taskHealth?.intervalMs ?? DEFAULT_TASK_HEALTH.intervalMs,
        stallTimeoutMs: parsed.taskHealth?.stallTimeoutMs ?? DEFAULT_TASK_HEALTH.stallTimeoutMs,
      },
      restartIntensity: {
        maxRestarts: parsed.restartIntensity?.maxRestarts ?? DEFAULT_RESTART_INTENSITY.maxRestarts,
        periodMs: parsed.restartIntensity?.periodMs ?? DEFAULT_RESTART_INTENSITY.periodMs,
      },
      execGraceMs: parsed.execGraceMs ?? DEFAULT_EXEC_GRACE_MS,
      baseEnv: createBaseEnvironment(),
      ptyHost: terminals.host,
      config: place.config,
    };
    trace = parsed.trace === undefined ? undefined : createTraceWriter(parsed.trace);
    const runtime = new LanevisorRuntime(
      ctx,
      place.lock,
      parsed.maxLanes ?? DEFAULT_MAX_LANES,
      combineInspectors(options.inspect, trace),
      trace,
    );
    await runtime.reconcile(parsed.reconcileGraceMs, parsed.reconcileOrphans !== false, facts);
    await runtime.listenForControl();
    return runtime;
  } catch (error) {
    await trace?.close();
    await terminals?.host?.close();
    await place.lock.release();
    throw error;
  }
}
