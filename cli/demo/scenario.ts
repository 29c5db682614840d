import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import {
  createBus,
  createRuntime,
  type EventEnvelope,
  type Lane,
  type Pty,
  type RuntimeOptions,
  runtimeProcesses,
} from '../../index.js';
import { createDemoRepo, DEMO_FILES } from './demo-repo.js';

/**
 * What `lanevisor demo` does, step by step, on a throwaway repository: three lanes with visible
 * work in real terminals (a shell the demo types into, a build-like command, a command that
 * crashes and is restarted by its supervisor), an exec, a lane shared by two agents, then an
 * ordered cleanup and proof that nothing is left. Every claim it prints is a check it made.
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
/** The timing of the whole demo, from the throwaway repository to its removal. */
export const DEMO_TOTAL = 'the whole demo';

export async function runDemo(
  view: DemoView,
  options: Pick<RuntimeOptions, 'inspect' | 'trace'> = {},
): Promise<DemoResult> {
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

  const repo = await timed(`make a throwaway repository (${DEMO_FILES} files)`, async () => createDemoRepo());
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
  const rt = await createRuntime({ ...options, repo: repo.path, bus });
  try {
    view.step('creating three lanes (worktree, branch, task each)', []);
    const [shell, build, flaky] = await timed('create 3 lanes at once', () =>
      Promise.all([
        rt.createLane({ label: 'shell', agent: 'agent-a' }),
        rt.createLane({ label: 'build' }),
        rt.createLane({ label: 'flaky' }),
      ]),
    );
    const lanes = [shell, build, flaky];
    check(
      'three lanes ready, each on its own branch',
      lanes.every((l) => l.state === 'ready'),
    );

    view.step('starting work: a shell the demo types into, a build, a command that crashes', lanes);
    const shellPty = await timed('shell: spawn → first output', async () => {
      const pty = await shell.spawnPty({ command: 'bash', args: [...BASH, '-i'], env: { PS1: '$ ' } });
      pty.write('echo "hello from $(git rev-parse --abbrev-ref HEAD)"\r');
      await outputOf(pty, 'hello from lane/shell');
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
    shellPty.write('ls src | wc -l\r');
    await outputOf(shellPty, '30');

    view.step('running a command with exec in the build lane', lanes);
    const log = await timed('exec: git log in the build lane', () => build.exec(['git', 'log', '--oneline', '-1']));
    check('exec ran in the lane worktree', log.exitCode === 0 && log.stdout.includes('initial'), log.stdout.trim());

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
    const left = leftovers(repo.path, rt.worktreeRoot, rt.id);
    check('no worktree left', left.worktrees.length === 0, left.worktrees.join(', '));
    check('no lane branch (or its marker) left', left.branches.length === 0, left.branches.join(', '));
    check('no directory left under the worktree root', left.directories.length === 0, left.directories.join(', '));
    check('no process of this runtime left', left.processes.length === 0, left.processes.join(', '));
    view.step('done', []);
  } finally {
    await rt.shutdown({ cleanupLanes: true });
    repo.dispose();
  }
  timings[DEMO_TOTAL] = Math.round(performance.now() - demoStarted);
  return { checks, timings, events };
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

/** What the demo could have left: worktrees besides the main one, lane branches, directories, tagged processes. */
function leftovers(repo: string, worktreeRoot: string, runtimeId: string) {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  const worktrees = git('worktree', 'list', '--porcelain')
    .split('\n')
    .filter((line) => line.startsWith('worktree ') && line !== `worktree ${repo}`);
  const branches = git('for-each-ref', '--format=%(refname)', 'refs/heads/lane/', 'refs/lanevisor/branches/')
    .split('\n')
    .filter(Boolean);
  const directories = readdirSync(worktreeRoot);
  const processes = runtimeProcesses(runtimeId);
  return { worktrees, branches, directories, processes };
}
