import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../cli/program.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import { runLanevisor } from '../support/cli.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';
import { cmdlineOf, isAlive, livePidsTagged } from '../support/proc-scan.js';

const run = (argv: string[]) => runLanevisor(argv);

let repo: TempRepo | undefined;
afterEach(() => {
  repo?.dispose();
  repo = undefined;
});

/** Every file under `dir` (not descending into `skip`), with its content unless only names are asked. */
function filesOf(dir: string, skip: (path: string) => boolean, withContent: boolean): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (skip(path)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = withContent ? readFileSync(path, 'latin1') : '';
    }
  };
  walk(dir);
  return files;
}

describe('lanevisor demo', () => {
  it('shows lanes, a crash and its restart, exec, sharing and cleanup, and passes every check it prints', async () => {
    const { code, stdout, stderr } = await run(['demo']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_OK);
    expect(stdout).toContain('== starting work: a shell the demo types into, a build, a command that crashes\n');
    expect(stdout).toMatch(/\nTimeline\n/);
    expect(stdout).toMatch(/ supervisor\.restarted flaky generation=2\n/);
    // Each lane's setup from the throwaway repository's lanevisor.json, step by step.
    for (const lane of ['shell', 'build', 'flaky']) {
      expect(stdout).toContain(` lane.setup_step ${lane} 1/3 copy ".env"\n`);
      expect(stdout).toContain(` lane.setup_step ${lane} 2/3 symlink "node_modules"\n`);
      expect(stdout).toMatch(new RegExp(` lane\\.setup_step ${lane} 3/3 run ".*" exitCode=0\n`));
    }
    expect(stdout).toMatch(
      / {2}ok {4}each lane set up by lanevisor\.json: .* \(shell :4100, build :4101, flaky :4102\)\n/,
    );
    expect(stdout).toMatch(/ lane\.closed shell branch=lane\/shell\n/);
    expect(stdout).toMatch(/\n\s+\d+ ms {2}create 3 lanes at once\n/);
    expect(stdout).toContain('  ok    no process of this runtime left\n');
    expect(stdout).not.toContain('FAIL');
    expect(stdout).toMatch(/\n15 of 15 checks passed\n$/);
  }, 60_000);

  it('prints the event stream as JSON lines with --json, then a summary', async () => {
    const { code, stdout } = await run(['demo', '--json']);
    expect(code).toBe(EXIT_OK);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const summary = lines.at(-1) as { type: string; ok: boolean; checks: { ok: boolean }[]; timings: object };
    expect(summary).toMatchObject({ type: 'summary', ok: true });
    expect(summary.checks).toHaveLength(15);
    const events = lines.slice(0, -1);
    expect(events.every((e) => e.type === 'event' && typeof e.topic === 'string')).toBe(true);
    expect(events.filter((e) => e.topic === 'lane.closed')).toHaveLength(3);
    expect(events.some((e) => e.topic === 'supervisor.restarted')).toBe(true);
    expect(events.filter((e) => e.topic === 'lane.setup_step')).toHaveLength(9);
    const ports = events.filter((e) => e.topic === 'lane.created').map((e) => (e.payload as { port: number }).port);
    expect(ports.sort()).toEqual([4100, 4101, 4102]);
  }, 60_000);

  it("--repo runs the lanes on the user's repository and leaves it exactly as it was", async () => {
    const made = createTempRepo(20);
    repo = made;
    const git = (...args: string[]) => gitIn(made.path, ...args);
    // The user's own: branches (one under lane/, named as the demo's first lane), tags, config,
    // a worktree, an untracked file, a change to a tracked file, and a lanevisor lane of theirs.
    git('branch', 'feature/login');
    git('branch', 'lane/shell');
    git('tag', 'v1.0');
    git('tag', '-a', 'v1.1', '-m', 'a release');
    git('config', 'user.favourite', 'lanes');
    git('worktree', 'add', '-q', join(made.base, 'login-checkout'), 'feature/login');
    writeFileSync(join(made.path, 'untracked.txt'), 'not yet added\n');
    writeFileSync(join(made.path, 'dir0', 'file0.txt'), 'changed, not committed\n');
    const own = await createRuntime({ repo: made.path });
    await own.createLane({ label: 'mine' });
    await own.shutdown();
    const snapshot = () => ({
      refs: git('for-each-ref', '--format=%(objectname) %(refname) %(upstream) %(symref)'),
      worktrees: git('worktree', 'list', '--porcelain'),
      status: git('status', '--porcelain', '--ignored'),
      config: readFileSync(join(made.path, '.git', 'config'), 'utf8'),
      files: filesOf(made.path, (path) => path === join(made.path, '.git'), true),
      // What git keeps, by name (objects aside: a salvage commit the demo took out again is garbage for gc).
      gitFiles: filesOf(join(made.path, '.git'), (path) => path === join(made.path, '.git', 'objects'), false),
      lanes: readdirSync(`${made.path}.lanes`),
    });
    const before = snapshot();

    const { code, stdout, stderr } = await run(['demo', '--json', '--repo', join(made.path, 'dir1')]);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_OK);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { topic?: string; payload?: Record<string, unknown> });
    const summary = lines.at(-1) as unknown as {
      ok: boolean;
      checks: { name: string; ok: boolean; detail?: string }[];
    };
    expect(summary.checks.filter((c) => !c.ok)).toEqual([]);
    expect(summary.checks).toHaveLength(16);
    // The lanes ran on this repository: the demo's first label gave way to the user's lane/shell.
    const created = lines.filter((line) => line.topic === 'lane.created').map((line) => line.payload ?? {});
    expect(created.map((payload) => payload.branch).sort()).toEqual(['lane/build', 'lane/flaky', 'lane/shell-2']);
    const provisioned = lines.find((line) => line.topic === 'lane.worktree_provisioned')?.payload;
    expect(provisioned?.baseSha).toBe(git('rev-parse', 'HEAD'));
    // The salvage ref was shown, then removed.
    const salvaged = summary.checks.find((c) => c.name.includes('uncommitted work saved'))?.detail;
    expect(salvaged).toMatch(/^refs\/lanevisor\/salvage\/lane_/);
    expect(summary.checks.at(-2)?.detail).toBe(`removed ${salvaged}`);

    expect(snapshot()).toEqual(before);
    // No process of the demo runs: nothing with its runtime's tag, its terminal host gone, nothing in its temp directory.
    const runtimeId = lines.find((line) => line.topic === 'runtime.reconciled')?.payload?.runtimeId as string;
    expect(livePidsTagged('LANEVISOR_RUNTIME_ID', runtimeId)).toEqual([]);
    const host = lines.find((line) => line.topic === 'runtime.pty_host_started')?.payload?.pid;
    if (host !== undefined) expect(isAlive(host as number)).toBe(false);
    const demoDir = dirname(dirname(created[0]?.worktreePath as string));
    const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
    expect(pids.filter((pid) => cmdlineOf(Number(pid)).includes(demoDir))).toEqual([]);
    expect(() => statSync(demoDir)).toThrow();
  }, 60_000);
});
