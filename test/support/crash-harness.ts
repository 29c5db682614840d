import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../../supervision/runtime/types.js';
import { distModule } from './dist.js';
import { gitIn } from './git-repo.js';
import { isAlive, livePidsTagged } from './proc-scan.js';

/** One step of the runtime run in the child (see test/fixtures/crash-runtime.mjs). */
export type CrashOp =
  | { readonly type: 'create'; readonly label: string }
  | {
      readonly type: 'pty';
      readonly label: string;
      readonly kind: 'plain' | 'trap' | 'bg' | 'setsid' | 'count';
      readonly restart?: 'permanent' | 'transient' | 'temporary';
    }
  | {
      readonly type: 'write';
      readonly label: string;
      readonly file: string;
      readonly content: string;
      readonly count?: number;
    }
  | { readonly type: 'commit'; readonly label: string; readonly message: string }
  | { readonly type: 'cleanup'; readonly label: string };

export type CrashLine = Record<string, unknown>;

/** A runtime in a child process, running `ops`, to be SIGKILLed. */
export class CrashRun {
  readonly child: ChildProcess;
  readonly lines: CrashLine[] = [];
  readonly #waiters: { match: (line: CrashLine) => boolean; resolve: (line: CrashLine) => void }[] = [];
  #exited = false;

  /** `options` are the child runtime's createRuntime options beyond `repo`. */
  constructor(repo: string, ops: readonly CrashOp[], options: Record<string, unknown> = {}) {
    distModule('index.js');
    this.child = spawn(
      process.execPath,
      [join(import.meta.dirname, '../fixtures/crash-runtime.mjs'), JSON.stringify({ repo, ops, options })],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buffer = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, newline)) as CrashLine;
        buffer = buffer.slice(newline + 1);
        this.lines.push(line);
        for (const waiter of [...this.#waiters]) {
          if (waiter.match(line)) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    });
    this.child.stderr?.on('data', (chunk: Buffer) => this.lines.push({ stderr: chunk.toString() }));
    this.child.once('exit', () => {
      this.#exited = true;
    });
  }

  /** The first line (seen already or to come) that `match` accepts; rejects if the child ends first. */
  waitFor(match: (line: CrashLine) => boolean, timeoutMs = 30_000): Promise<CrashLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no such line within ${timeoutMs} ms; got ${JSON.stringify(this.lines)}`)),
        timeoutMs,
      );
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      this.child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`the runtime child ended early: ${JSON.stringify(this.lines)}`));
      });
    });
  }

  async runtimeId(): Promise<string> {
    return (await this.waitFor((line) => typeof line.runtimeId === 'string')).runtimeId as string;
  }

  opDone(index: number): Promise<CrashLine> {
    return this.waitFor((line) => line.op === index && line.phase === 'done');
  }

  /** What `kill -9` does: no handler runs, nothing is cleaned. */
  async kill(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Processes that stand for other people's: an unrelated `setsid bash`, and a shell whose parent died (adopted by PID 1). */
export async function startUnrelatedProcesses(): Promise<{ pids: number[]; stop(): void }> {
  // detached: the bash calls setsid() and leads its own session, as `setsid bash` would.
  const session = spawn('bash', ['-c', 'sleep 600; exit 0'], { detached: true, stdio: 'ignore' });
  session.unref();
  const orphan = spawn('bash', ['-c', 'bash -c "sleep 600" </dev/null >/dev/null 2>&1 & echo $!'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const pids = [session.pid as number];
  const ready = new Promise<void>((resolve) => {
    orphan.stdout?.once('data', (chunk: Buffer) => {
      pids.push(Number(chunk.toString().trim()));
      resolve();
    });
  });
  await ready;
  return {
    pids,
    stop() {
      // The session's whole group (its bash and its sleep); the adopted shell's sleep is itself.
      for (const pid of [-(session.pid as number), ...pids.slice(1)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone.
        }
      }
    },
  };
}

/** The facts a recovery must establish after a crash: nothing of the dead runtime runs, nothing unaccounted for is on disk or in git. */
export function strayState(repoPath: string, next: Runtime, deadRuntimeId: string) {
  const lanes = next.lanes();
  const lanePaths = new Set(lanes.map((lane) => lane.worktreePath));
  const worktrees = gitIn(repoPath, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree ') && line !== `worktree ${repoPath}`)
    .map((line) => line.slice('worktree '.length))
    .filter((path) => !lanePaths.has(path));
  const directories = existsSync(next.worktreeRoot)
    ? readdirSync(next.worktreeRoot).filter((name) => !lanePaths.has(join(next.worktreeRoot, name)))
    : [];
  const laneBranches = new Set(lanes.map((lane) => lane.branch));
  // A lane branch may stay only while a lane has it, or when it holds commits nothing else has.
  const branches = gitIn(repoPath, 'for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads/lane/')
    .split('\n')
    .filter(Boolean)
    .filter((branch) => !laneBranches.has(branch))
    .filter((branch) => gitIn(repoPath, 'rev-list', '--count', `main..${branch}`) === '0');
  return { processes: livePidsTagged('LANEVISOR_RUNTIME_ID', deadRuntimeId), worktrees, directories, branches };
}

export const NOTHING_STRAY = { processes: [], worktrees: [], directories: [], branches: [] };

/** Where a file written in a lane before the crash is now: its lane's worktree, a salvage ref or a kept branch. */
export function findWrittenFile(repoPath: string, next: Runtime, file: string, content: string): string | null {
  for (const lane of next.lanes()) {
    const path = join(lane.worktreePath, file);
    if (existsSync(path) && readFileSync(path, 'utf8') === content) return `lane ${lane.id}`;
  }
  const refs = gitIn(repoPath, 'for-each-ref', '--format=%(refname)', 'refs/lanevisor/salvage/', 'refs/heads/lane/')
    .split('\n')
    .filter(Boolean);
  for (const ref of refs) {
    try {
      if (gitIn(repoPath, 'show', `${ref}:${file}`) === content.trimEnd()) return ref;
    } catch {
      // Not in this ref.
    }
  }
  return null;
}

export function stillAlive(pids: readonly number[]): number[] {
  return pids.filter(isAlive);
}

/** The lane worktrees (git's records and the directories under the worktree root) and lane branches there are. */
export interface LaneFootprint {
  readonly registered: readonly string[];
  readonly directories: readonly string[];
  readonly branches: readonly string[];
}

export function laneFootprint(repoPath: string, worktreeRoot: string): LaneFootprint {
  const registered = gitIn(repoPath, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length))
    .filter((path) => path.startsWith(`${worktreeRoot}/`));
  const directories = existsSync(worktreeRoot) ? readdirSync(worktreeRoot).map((name) => join(worktreeRoot, name)) : [];
  const branches = gitIn(repoPath, 'for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads/lane/')
    .split('\n')
    .filter(Boolean);
  return { registered, directories, branches };
}

/**
 * What a reconciliation did, read from git and the disk before and after it: worktree directories
 * removed, git records of missing directories pruned, lane branches deleted, and lane branches
 * still there that no lane of the new runtime holds (kept); with their counts. Compare it with
 * `reportedChange` of the reconciliation's report.
 */
export function footprintChange(before: LaneFootprint, after: LaneFootprint, next: Runtime) {
  const held = new Set(next.lanes().map((lane) => lane.branch));
  const removed = before.directories.filter(
    (path) => !after.directories.includes(path) && !after.registered.includes(path),
  );
  const pruned = before.registered.filter(
    (path) => !before.directories.includes(path) && !after.registered.includes(path),
  );
  const branchesRemoved = before.branches.filter((branch) => !after.branches.includes(branch));
  const branchesKept = before.branches.filter((branch) => after.branches.includes(branch) && !held.has(branch));
  return change(removed, pruned, branchesRemoved, branchesKept, {
    worktrees: { removed: removed.length, pruned: pruned.length },
    branches: { removed: branchesRemoved.length, kept: branchesKept.length },
  });
}

/** The same facts as `footprintChange`, as a reconciliation report names and counts them. */
export function reportedChange(report: Runtime['reconciliation']) {
  const { worktrees, branches } = report.details;
  return change(
    worktrees.removed,
    worktrees.pruned,
    branches.removed,
    branches.kept.map((kept) => kept.branch),
    {
      worktrees: { removed: report.worktrees.removed, pruned: report.worktrees.pruned },
      branches: report.branches,
    },
  );
}

function change(
  removed: readonly string[],
  pruned: readonly string[],
  branchesRemoved: readonly string[],
  branchesKept: readonly string[],
  counts: {
    worktrees: { removed: number; pruned: number };
    branches: { removed: number; kept: number };
  },
) {
  const sorted = (list: readonly string[]) => [...list].sort();
  return {
    counts,
    worktrees: { removed: sorted(removed), pruned: sorted(pruned) },
    branches: { removed: sorted(branchesRemoved), kept: sorted(branchesKept) },
  };
}
