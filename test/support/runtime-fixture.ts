import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { createBus } from '../../bus/local-bus.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import type { Runtime, RuntimeOptions } from '../../supervision/runtime/types.js';
import { createTempRepo, gitIn, type TempRepo } from './git-repo.js';
import { livePidsTagged } from './proc-scan.js';

/** A bash that reads no startup files and shows a fixed prompt. */
export const BASH_PTY = { command: 'bash', args: ['--norc', '--noprofile', '-i'], env: { PS1: '$ ' } } as const;

export interface RuntimeFixture {
  readonly repo: TempRepo;
  readonly rt: Runtime;
  readonly events: EventEnvelope[];
  topics(filter?: (event: EventEnvelope) => boolean): string[];
  /** A second runtime on the same repository and state (after `rt.shutdown()`). */
  restart(options?: Partial<RuntimeOptions>): Promise<Runtime>;
  dispose(): Promise<void>;
}

/** A runtime on a fresh temp repository (`prepare` may add to it first), recording every event except PTY output. */
export async function createRuntimeFixture(
  options: Partial<RuntimeOptions> = {},
  files = 20,
  prepare?: (repoPath: string) => void,
): Promise<RuntimeFixture> {
  const repo = createTempRepo(files);
  prepare?.(repo.path);
  const events: EventEnvelope[] = [];
  const bus = createBus({ queueLimit: 1_000_000 });
  bus.subscribe(
    '**',
    (event) => {
      if (event.topic !== 'pty.output') events.push(event);
    },
    { queueLimit: 1_000_000 },
  );
  const runtimes: Runtime[] = [];
  const start = async (more: Partial<RuntimeOptions> = {}) => {
    const runtime = await createRuntime({ repo: repo.path, bus, ...options, ...more });
    runtimes.push(runtime);
    return runtime;
  };
  const rt = await start();
  return {
    repo,
    rt,
    events,
    topics: (filter) => events.filter((e) => filter?.(e) ?? true).map((e) => e.topic),
    restart: start,
    async dispose() {
      for (const runtime of runtimes) await runtime.shutdown({ cleanupLanes: true });
      repo.dispose();
    },
  };
}

/** Everything a runtime may leave behind in git, on disk and in /proc. */
export function leftovers(fixture: RuntimeFixture, runtime: Runtime = fixture.rt) {
  const worktrees = gitIn(fixture.repo.path, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree ') && line !== `worktree ${fixture.repo.path}`);
  const branches = gitIn(fixture.repo.path, 'branch', '--list', 'lane/*').split('\n').filter(Boolean);
  const markers = gitIn(fixture.repo.path, 'for-each-ref', '--format=%(refname)', 'refs/lanevisor/branches/')
    .split('\n')
    .filter(Boolean);
  const directories = existsSync(runtime.worktreeRoot) ? readdirSync(runtime.worktreeRoot) : [];
  const recordsDir = join(runtime.stateDir, 'lanes');
  const records = existsSync(recordsDir) ? readdirSync(recordsDir).filter((f) => f.endsWith('.json')) : [];
  const processes = livePidsTagged('LANEVISOR_RUNTIME_ID', runtime.id);
  return { worktrees, branches, markers, directories, records, processes };
}

export const NOTHING_LEFT = { worktrees: [], branches: [], markers: [], directories: [], records: [], processes: [] };
