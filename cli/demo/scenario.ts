import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBus, createRuntime, type EventEnvelope, type Lane, type Pty, type RuntimeOptions } from '../../index.js';
import { createDemoRepo, DEMO_ENV, DEMO_FILES, type DemoPlace, usersRepo } from './demo-repo.js';
import {
  changedLines,
  freeLabels,
  leftovers,
  type RepoState,
  removeDemoSalvage,
  repoState,
  trackedFiles,
} from './repo-state.js';

/**
 * What `lanevisor demo` does, step by step, on a throwaway repository (or, with `repo`, on the
 * user's own): three lanes set up by the throwaway repository's lanevisor.json, with visible work in real terminals (a shell the demo types into, a
 * build-like command, a command that crashes and is restarted by its supervisor), an exec, a lane
 * shared by two agents, then an ordered cleanup and proof that nothing is left. On the user's
 * repository the salvage ref the cleanup made is shown, then removed, and the demo checks that
 * every ref and worktree is as it was and that its terminal host ended. Every claim it prints is
 * a check it made.
 */
export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface DemoView {
  event(event: EventEnvelope): void;
  /** A step begins; the lanes as they are now. */
  step(title: string, lanes: readonly Lane[]): void;
}

export interface DemoResult {
  readonly checks: DemoCheck[];
  /** Milliseconds per measured step. */
  readonly timings: Record<string, number>;
  readonly events: EventEnvelope[];
}

const BASH = ['--norc', '--noprofile'];
const BUILD_SCRIPT = 'for i in $(seq 1 12); do echo "compiling module $i/12"; sleep 0.15; done; echo "build finished"';
const FLAKY_SCRIPT =
  'if [ -e .crashed-once ]; then echo "recovered after restart"; sleep 0.5; else touch .crashed-once; echo "about to crash"; kill -SEGV $$; fi';
const OUTPUT_TIMEOUT_MS = 15_000;
/** How long the demo's terminal host may take to exit once the demo's state directory is gone. */
const HOST_EXIT_TIMEOUT_MS = 5_000;
/** The timing of the whole demo, from the throwaway repository to its removal. */
export const DEMO_TOTAL = 'the whole demo';

export interface DemoOptions extends Pick<RuntimeOptions, 'inspect' | 'trace'> {
  /** The user's repository to run the lanes on (left as it was); default a throwaway one. */
  readonly repo?: string;
  /** Stops the demo before its next step; what it made is cleaned up and removed all the same. */
  readonly signal?: AbortSignal;
}

export async function runDemo(shown: DemoView, options: DemoOptions = {}): Promise<DemoResult> {
  // Stopped (Ctrl-C, a closed output) between steps, so that its cleanup runs as on any failure.
  const view: DemoView = {
    event: (event) => shown.event(event),
    step: (title, lanes) => {
      options.signal?.throwIfAborted();
      shown.step(title, lanes);
    },
  };
  const demoStarted = performance.now();
  const checks: DemoCheck[] = [];
  const timings: Record<string, number> = {};
  const events: EventEnvelope[] = [];
  const check = (name: string, ok: boolean, detail?: string) =>
    checks.push({ name, ok, ...(detail === undefined ? {} : { detail }) });
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings[name] = Math.round(performance.now() - started);
    }
  };

  const { repo: usersPath, signal: _signal, ...runtimeOptions } = options;
  const place: DemoPlace =
    usersPath === undefined
      ? await timed(`make a throwaway repository (${DEMO_FILES} files)`, async () => createDemoRepo())
      : usersRepo(usersPath);
  const bus = createBus({ queueLimit: 1_000_000 });
  bus.subscribe(
    '**',
    (event) => {
      if (event.topic === 'pty.output') return;
      events.push(event);
      view.event(event);
    },
    { queueLimit: 1_000_000 },
  );
  const rt = await createRuntime({ ...runtimeOptions, ...place.runtime, repo: place.path, bus }).catch(
    (error: unknown) => {
      place.dispose();
      throw error;
    },
  );
  // The main working tree (`--repo` may name any path inside the repository).
  const repo = rt.repo;
  const hostPid = rt.ptyHost?.pid ?? null;
  const laneIds = new Set<string>();
  let before: RepoState | undefined;
  try {
    before = repoState(repo);
    const label = freeLabels(repo);
    // A user's lanevisor.json setup is for lanes that do its work, not for the demo's.
    const setup = place.setup ? {} : { setup: false as const };
    const [shell, build, flaky] = await timed('create 3 lanes at once', () => {
      const creating = Promise.all([
        rt.createLane({ label: label('shell'), agent: 'agent-a', ...setup }),
        rt.createLane({ label: label('build'), ...setup }),
        rt.createLane({ label: label('flaky'), ...setup }),
      ]);
      // Stopped at the step below, the demo's cleanup ends these lanes, and their promises reject.
      creating.catch(() => undefined);
      // The lanes are the runtime's as soon as they are asked for: their setup shows while it runs.
      view.step(`creating three lanes (worktree, branch, ${place.setup ? 'setup, ' : ''}task each)`, rt.lanes());
      return creating;
    });
    for (const lane of [shell, build, flaky]) laneIds.add(lane.id);
    const lanes = [shell, build, flaky];
    check(
      'three lanes ready, each on its own branch',
      lanes.every((l) => l.state === 'ready'),
    );
    if (place.setup) {
      const unset = lanes.filter(
        (lane) =>
          readEnvFile(lane) !== `${DEMO_ENV}PORT=${lane.port}\n` ||
          !lstatSync(join(lane.worktreePath, 'node_modules'), { throwIfNoEntry: false })?.isSymbolicLink(),
      );
      check(
        'each lane set up by lanevisor.json: .env copied, node_modules linked, its own port written by its setup command',
        unset.length === 0 && new Set(lanes.map((lane) => lane.port)).size === 3,
        lanes.map((lane) => `${lane.label} :${lane.port}`).join(', '),
      );
    }

    view.step('starting work: a shell the demo types into, a build, a command that crashes', lanes);
    const shellPty = await timed('shell: spawn → first output', async () => {
      const pty = await shell.spawnPty({ command: 'bash', args: [...BASH, '-i'], env: { PS1: '$ ' } });
      pty.write('echo "hello from $(git rev-parse --abbrev-ref HEAD)"\r');
      await outputOf(pty, `hello from ${shell.branch}`);
      return pty;
    });
    const buildPty = await build.spawnPty({ command: 'bash', args: [...BASH, '-c', BUILD_SCRIPT] });
    const restarted = waitForTopic(bus, 'supervisor.restarted');
    const flakyPty = await flaky.spawnPty({
      command: 'bash',
      args: [...BASH, '-c', FLAKY_SCRIPT],
      restart: 'transient',
    });
    await timed('flaky: crash → restarted by its supervisor', () => restarted);
    await outputOf(flakyPty, 'recovered after restart');
    check('the crashed command was restarted by its lane supervisor', flakyPty.restarts === 1);
    check(
      'the other lanes were untouched by the crash',
      shellPty.restarts === 0 && buildPty.restarts === 0 && shellPty.state === 'active' && shell.state === 'ready',
    );
    // What the lane checked out: every file of its base commit.
    shellPty.write('echo "tracked files: $(git ls-files | wc -l)"\r');
    await outputOf(shellPty, `tracked files: ${trackedFiles(shell.worktreePath)}`);

    view.step('running a command with exec in the build lane', lanes);
    const log = await timed('exec: git log in the build lane', () =>
      build.exec(['git', 'log', '-1', '--format=%H %s']),
    );
    const [sha = '', ...subject] = log.stdout.trim().split(' ');
    check(
      'exec ran in the lane worktree',
      log.exitCode === 0 && sha === before.head,
      `${sha.slice(0, 7)} ${subject.join(' ')}`,
    );

    view.step('sharing the shell lane between two agents', lanes);
    await shell.share();
    await shell.attach('agent-b');
    check('the shell lane is shared by agent-a and agent-b', shell.agents.join(',') === 'agent-a,agent-b');

    view.step('waiting for the build and the flaky command to finish', lanes);
    const [buildExit, flakyExit] = await Promise.all([buildPty.exited, flakyPty.exited]);
    check('the build finished', buildExit.exitCode === 0 && buildPty.scrollback().includes('build finished'));
    check('the restarted command finished cleanly', flakyExit.exitCode === 0);

    view.step('cleaning up in order: terminals, task, salvage, worktree, branch, record', lanes);
    for (const lane of [flaky, build, shell]) {
      const report = await timed(`cleanup ${lane.label}`, () => lane.cleanup());
      // The flaky lane left a file behind: it is saved to a ref, never silently deleted.
      check(
        `lane ${lane.label} cleaned${report.salvagedRef ? ', its uncommitted work saved' : ''}`,
        !report.branchKept,
        report.salvagedRef ?? undefined,
      );
    }
    const left = leftovers(repo, rt.worktreeRoot, rt.id, before);
    check('no worktree left', left.worktrees.length === 0, left.worktrees.join(', '));
    check('no lane branch (or its marker) left', left.branches.length === 0, left.branches.join(', '));
    check('no directory left under the worktree root', left.directories.length === 0, left.directories.join(', '));
    check('no process of this runtime left', left.processes.length === 0, left.processes.join(', '));
    if (place.usersOwn) {
      // The salvage was the demo's, not the user's: shown above, taken out again.
      const removed = removeDemoSalvage(repo, before, laneIds);
      const changed = changedLines(before.refs, repoState(repo).refs);
      check(
        'the salvage ref removed again: every ref of the repository is as it was',
        changed.length === 0,
        changed.length > 0
          ? `changed: ${changed.join(', ')}`
          : removed.length > 0
            ? `removed ${removed.join(', ')}`
            : 'nothing was salvaged',
      );
    }
    view.step('done', []);
  } finally {
    for (const lane of rt.lanes()) laneIds.add(lane.id);
    try {
      await rt.shutdown({ cleanupLanes: true });
      // A demo that failed half way: what the shutdown's cleanups salvaged goes too.
      if (place.usersOwn && before !== undefined) removeDemoSalvage(repo, before, laneIds);
    } finally {
      place.dispose();
    }
  }
  if (place.usersOwn) {
    // Its state directory gone, the demo's terminal host exits by itself.
    const ended = hostPid === null || (await processGone(hostPid, HOST_EXIT_TIMEOUT_MS));
    check(
      'no process of the demo left, its terminal host included',
      ended,
      hostPid === null ? 'terminals inline' : `host pid ${hostPid}`,
    );
  }
  timings[DEMO_TOTAL] = Math.round(performance.now() - demoStarted);
  return { checks, timings, events };
}

/** A lane's `.env` as its setup left it ('' when there is none). */
function readEnvFile(lane: Lane): string {
  try {
    return readFileSync(join(lane.worktreePath, '.env'), 'utf8');
  } catch {
    return '';
  }
}

/** Resolves once the PTY's retained output contains `text`. */
async function outputOf(pty: Pty, text: string): Promise<void> {
  const deadline = Date.now() + OUTPUT_TIMEOUT_MS;
  while (!pty.scrollback().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" from PTY ${pty.id} within ${OUTPUT_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function waitForTopic(bus: ReturnType<typeof createBus>, topic: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = bus.subscribe(topic, () => {
      stop();
      resolve();
    });
  });
}

/** Resolves true once `pid` has exited (or false after `timeoutMs`). */
async function processGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
