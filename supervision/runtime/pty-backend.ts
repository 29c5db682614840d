import type { PtyBackend } from '../../actors/pty/backend.js';
import { HostBackend, type HostBackendOptions } from '../../actors/pty/host/host-client.js';
import { createInlinePtyBackend } from '../../actors/pty/local-session.js';
import { nodePtyDriver } from '../../actors/pty/node-pty-driver.js';
import { DEFAULT_OUTPUT_BUFFER_BYTES } from '../../actors/pty/output-buffer.js';
import type { RuntimeId } from '../../bus/ids.js';
import type { LocalBus } from '../../bus/local-bus.js';
import { DEFAULT_TERMINATE_GRACE_MS } from '../pty/pty-factory.js';
import type { RuntimeOptions } from './types.js';

/**
 * The runtime's terminals: which backend runs them (the caller's, node-pty in this process, or
 * the state directory's terminal host), and the host's comings and goings on the bus.
 */
/** Default of `pty.host`; the LANEVISOR_PTY_HOST variable (`inline` or `process`) changes it. */
export const DEFAULT_PTY_HOST = 'process';
/** How long the host keeps a dead runtime's terminals, by default. */
export const DEFAULT_LINGER_MS = 300_000;

export interface RuntimePtyBackend {
  readonly backend: PtyBackend;
  /** The terminal host's client when terminals run there. */
  readonly host: HostBackend | null;
}

/** Which host runs the terminals: `pty.host`, else LANEVISOR_PTY_HOST, else the terminal host process. */
export function ptyHostOf(options: RuntimeOptions, env: NodeJS.ProcessEnv = process.env): 'process' | 'inline' {
  const fromEnv = env.LANEVISOR_PTY_HOST;
  return options.pty?.host ?? (fromEnv === 'inline' || fromEnv === 'process' ? fromEnv : DEFAULT_PTY_HOST);
}

/** The backend, connected (a terminal host started when none runs): SPAWN_ERROR when the host cannot be reached. */
export async function openPtyBackend(
  options: RuntimeOptions,
  place: { readonly stateDir: string; readonly runtimeId: RuntimeId; readonly bus: LocalBus },
): Promise<RuntimePtyBackend> {
  if (options.ptyBackend !== undefined) return { backend: options.ptyBackend, host: null };
  if (ptyHostOf(options) === 'inline') return { backend: createInlinePtyBackend(nodePtyDriver), host: null };
  const { runtimeId, bus } = place;
  const host = hostClientFor(options, place.stateDir, runtimeId, {
    onHostStarted: (pid) => bus.publishLifecycle('runtime.pty_host_started', { runtimeId, pid }),
    onHostLost: (pid, lostPtys) =>
      bus.publishLifecycle('runtime.pty_host_lost', { runtimeId, pid, lostPtys: [...lostPtys] }),
  });
  await host.connect();
  return { backend: host, host };
}

/** A client of the state directory's terminal host, with the runtime's linger, grace and buffer. */
export function hostClientFor(
  options: RuntimeOptions,
  stateDir: string,
  runtimeId: RuntimeId,
  events: Pick<HostBackendOptions, 'onHostStarted' | 'onHostLost'> = {},
): HostBackend {
  return new HostBackend({
    stateDir,
    runtimeId,
    lingerMs: options.pty?.lingerMs ?? DEFAULT_LINGER_MS,
    graceMs: options.pty?.terminateGraceMs ?? DEFAULT_TERMINATE_GRACE_MS,
    outputBufferBytes: options.pty?.outputBufferBytes ?? DEFAULT_OUTPUT_BUFFER_BYTES,
    ...events,
  });
}
