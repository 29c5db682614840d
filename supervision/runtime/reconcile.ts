import { createRuntimeId } from '../../bus/ids.js';
import { reconcileStartup } from '../recovery/startup-reconciliation.js';
import { hostClientFor, ptyHostOf } from './pty-backend.js';
import { createRuntime } from './runtime.js';
import { openRuntimePlace } from './runtime-setup.js';
import type { ReconciliationReport, RuntimeOptions } from './types.js';

/**
 * What `lanevisor reconcile` runs: a runtime's startup reconciliation on its own. A dry run takes
 * the state directory's lock, looks, and changes nothing; otherwise a runtime starts, reconciles
 * and shuts down, keeping the lanes that came back.
 */
export async function reconcile(
  options: RuntimeOptions & { readonly dryRun?: boolean },
): Promise<ReconciliationReport> {
  const { dryRun, ...runtimeOptions } = options;
  if (!dryRun) {
    const runtime = await createRuntime(runtimeOptions);
    await runtime.shutdown();
    return runtime.reconciliation;
  }
  const runtimeId = createRuntimeId();
  const place = await openRuntimePlace(runtimeOptions, runtimeId);
  // Only to ask a running host what it holds: none is started for a dry run.
  const ptyHost =
    ptyHostOf(runtimeOptions) === 'process' ? hostClientFor(runtimeOptions, place.stateDir, runtimeId) : null;
  try {
    return await reconcileStartup(
      { ...place, runtimeId, ptyHost },
      { lanes: null, orphans: runtimeOptions.reconcileOrphans !== false },
    );
  } finally {
    await ptyHost?.close();
    await place.lock.release();
  }
}
