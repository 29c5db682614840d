import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../bus/envelopes.js';
import { isLanevisorError } from '../../../bus/errors.js';
import { laneLogPath } from '../../../supervision/runtime/lane-logs.js';
import { gitIn } from '../../support/git-repo.js';
import { isAlive, livePidsTagged } from '../../support/proc-scan.js';
import { createRuntimeFixture, leftovers, NOTHING_LEFT, type RuntimeFixture } from '../../support/runtime-fixture.js';
import { waitUntil } from '../../support/wait.js';

let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
  delete process.env.LANEVISOR_TEST_SECRET;
  delete process.env.LANEVISOR_TEST_AWS_KEY;
});

/** A repository with lanevisor.json and the untracked, ignored files a real one has. */
function withConfig(config: object, extra?: (repo: string) => void) {
  return (repo: string) => {
    writeFileSync(join(repo, '.gitignore'), 'node_modules/\n*.log\n.env\nconfig/*.local.json\n');
    writeFileSync(join(repo, '.env'), 'API_KEY=from-main\n');
    mkdirSync(join(repo, 'config'));
    writeFileSync(join(repo, 'config', 'db.local.json'), '{"db":"local"}\n');
    mkdirSync(join(repo, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(repo, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n');
    gitIn(repo, 'commit', '-qam', 'ignore local files');
    writeFileSync(join(repo, 'lanevisor.json'), JSON.stringify(config));
    extra?.(repo);
  };
}

const setupSteps = (events: readonly EventEnvelope[]) =>
  events.filter((event) => event.topic === 'lane.setup_step').map((event) => event.payload as Record<string, unknown>);

describe("a lane's setup from lanevisor.json", () => {
  it('copies ignored files, links directories, runs commands with the lane environment, and says each step', async () => {
    fixture = await createRuntimeFixture(
      {},
      5,
      withConfig({
        setup: {
          copy: ['.env', 'config/*.local.json', 'missing/*.txt'],
          symlink: ['node_modules'],
          run: ['echo "port=$LANEVISOR_PORT url=$APP_URL" > setup-ran.txt', 'echo from-setup-output'],
        },
        env: { set: { APP_URL: 'http://localhost:{{port}}/{{label}}' } },
        ports: { base: 41_000, perLane: 10 },
      }),
    );
    const lane = await fixture.rt.createLane({ label: 'web' });
    const tree = lane.worktreePath;
    expect(readFileSync(join(tree, '.env'), 'utf8')).toBe('API_KEY=from-main\n');
    expect(readFileSync(join(tree, 'config', 'db.local.json'), 'utf8')).toBe('{"db":"local"}\n');
    expect(lstatSync(join(tree, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(tree, 'node_modules'))).toBe(join(fixture.repo.path, 'node_modules'));
    expect(lane.port).toBe(41_000);
    expect(fixture.events.find((event) => event.topic === 'lane.created')?.payload).toMatchObject({ port: 41_000 });
    expect(readFileSync(join(tree, 'setup-ran.txt'), 'utf8')).toBe('port=41000 url=http://localhost:41000/web\n');
    expect(readFileSync(laneLogPath(fixture.rt.stateDir, lane.id), 'utf8')).toContain('from-setup-output');

    const steps = setupSteps(fixture.events);
    expect(steps.map((step) => [step.index, step.total, step.kind, step.target])).toEqual([
      [1, 6, 'copy', '.env'],
      [2, 6, 'copy', 'config/*.local.json'],
      [3, 6, 'copy', 'missing/*.txt'],
      [4, 6, 'symlink', 'node_modules'],
      [5, 6, 'run', 'echo "port=$LANEVISOR_PORT url=$APP_URL" > setup-ran.txt'],
      [6, 6, 'run', 'echo from-setup-output'],
    ]);
    // A glob that matches nothing is a warning, not a failure.
    expect(steps[2]?.warnings).toEqual(['copy missing/*.txt: matches nothing in the main working tree']);
    expect(steps[4]?.exitCode).toBe(0);
    // The steps come after the worktree and before the lane is ready.
    const topics = fixture.topics(
      (event) => event.payload !== undefined && (event.payload as { laneId?: string }).laneId === lane.id,
    );
    expect(topics.indexOf('lane.worktree_provisioned')).toBeLessThan(topics.indexOf('lane.setup_step'));
    expect(topics.lastIndexOf('lane.setup_step')).toBeLessThan(topics.indexOf('lane.task_bound'));
    // The main working tree is as it was.
    expect(gitIn(fixture.repo.path, 'status', '--porcelain')).toBe('?? lanevisor.json');
  });

  it('never reads outside the main working tree: a path leading out through a symlink is left alone', async () => {
    fixture = await createRuntimeFixture(
      {},
      5,
      withConfig({ setup: { copy: ['outside/*', 'inside-link'] } }, (repo) => {
        symlinkSync('/etc', join(repo, 'outside'));
        symlinkSync('/etc/hostname', join(repo, 'inside-link'));
      }),
    );
    const lane = await fixture.rt.createLane();
    // Nothing of /etc came in through the linked directory; a link itself is copied as a link, never followed.
    expect(existsSync(join(lane.worktreePath, 'outside'))).toBe(false);
    expect(readlinkSync(join(lane.worktreePath, 'inside-link'))).toBe('/etc/hostname');
    const [outside] = setupSteps(fixture.events);
    const warnings = (outside?.warnings ?? []) as string[];
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((warning) => warning.endsWith('leads outside the main working tree; left alone'))).toBe(true);
  });

  it('a failing command fails createLane with SETUP_FAILED and its last lines, and rolls everything back', async () => {
    fixture = await createRuntimeFixture(
      {},
      5,
      withConfig({
        setup: {
          copy: ['.env'],
          run: ['true', 'sleep 300 & echo "$!" > "$LANEVISOR_TEST_PID_FILE"; echo line-one; echo boom >&2; exit 3'],
        },
        env: { set: { LANEVISOR_TEST_PID_FILE: '/tmp/lanevisor-setup-{{laneId}}.pid' } },
      }),
    );
    const error = await fixture.rt.createLane({ label: 'broken' }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isLanevisorError(error, 'SETUP_FAILED')).toBe(true);
    const failure = error as { message: string; details: { step: number; lastLines: string[] } };
    expect(failure.message).toMatch(/^setup step 3 of 3: ".*" exited 3: boom$/);
    expect(failure.details.step).toBe(3);
    expect(failure.details.lastLines).toEqual(['line-one', 'boom']);
    // The lane is gone as if never made, and so is what its setup started in the background.
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
    const failed = fixture.events.find((event) => event.topic === 'lane.failed')?.payload as { laneId: string };
    await waitUntil(
      () => livePidsTagged('LANEVISOR_EXEC_ID', `${failed.laneId}/setup-2`).length === 0,
      'the sleep to be stopped',
    );
    const pidFile = `/tmp/lanevisor-setup-${failed.laneId}.pid`;
    const background = Number(readFileSync(pidFile, 'utf8'));
    rmSync(pidFile, { force: true });
    expect(background).toBeGreaterThan(0);
    expect(isAlive(background)).toBe(false);
    expect(fixture.rt.lanes()).toEqual([]);
    expect(await fixture.rt.createLane({ label: 'broken', setup: false })).toMatchObject({ label: 'broken' });
  });

  it('a command past setup.timeoutMs is stopped, fails createLane with SETUP_FAILED and leaves nothing behind', async () => {
    fixture = await createRuntimeFixture(
      {},
      5,
      withConfig({
        setup: {
          run: ['sleep 300 & echo "$!" > "$LANEVISOR_TEST_PID_FILE"; echo still-going; sleep 30'],
          timeoutMs: 300,
        },
        env: { set: { LANEVISOR_TEST_PID_FILE: '/tmp/lanevisor-setup-timeout-{{laneId}}.pid' } },
      }),
    );
    const started = performance.now();
    const error = await fixture.rt.createLane({ label: 'slow' }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    // Cut at the limit, not when the 30 s sleep would have ended.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(isLanevisorError(error, 'SETUP_FAILED')).toBe(true);
    const failure = error as { message: string; details: { step: number; lastLines: string[] } };
    expect(failure.message).toMatch(/^setup step 1 of 1: ".*" timed out after 300 ms: still-going$/);
    expect(failure.details.lastLines).toEqual(['still-going']);
    const failed = fixture.events.find((event) => event.topic === 'lane.failed')?.payload as { laneId: string };
    expect(failed.laneId).toMatch(/^lane_/);
    const step = setupSteps(fixture.events).find((event) => event.kind === 'run');
    expect(step?.exitCode).toBeNull();
    // No worktree, branch, marker, directory, record or process of the lane is left.
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
    const pidFile = `/tmp/lanevisor-setup-timeout-${failed.laneId}.pid`;
    const background = Number(readFileSync(pidFile, 'utf8'));
    rmSync(pidFile, { force: true });
    expect(background).toBeGreaterThan(0);
    expect(isAlive(background)).toBe(false);
    expect(livePidsTagged('LANEVISOR_EXEC_ID', `${failed.laneId}/setup-1`)).toEqual([]);
    expect(fixture.rt.lanes()).toEqual([]);
  });

  it('keeps what is denied out of PTYs, execs and setup, and gives each live lane its own port, freed at cleanup', async () => {
    process.env.LANEVISOR_TEST_SECRET = 'do-not-leak';
    process.env.LANEVISOR_TEST_AWS_KEY = 'do-not-leak-either';
    fixture = await createRuntimeFixture(
      {},
      5,
      withConfig({
        setup: { run: ['env > setup-env.txt'] },
        env: { deny: ['LANEVISOR_TEST_SECRET', 'LANEVISOR_TEST_AWS_*'] },
        ports: { base: 42_000 },
      }),
    );
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => (fixture as RuntimeFixture).rt.createLane()));
    const ports = [a, b, c].map((lane) => lane?.port);
    expect(new Set(ports).size).toBe(3);
    expect([...ports].sort()).toEqual([42_000, 42_001, 42_002]);
    const lane = a as NonNullable<typeof a>;
    const exec = await lane.exec(['env']);
    const pty = await lane.spawnPty({ command: 'bash', args: ['-c', 'env; sleep 0.2'] });
    await pty.exited;
    for (const env of [readFileSync(join(lane.worktreePath, 'setup-env.txt'), 'utf8'), exec.stdout, pty.scrollback()]) {
      expect(env).not.toContain('do-not-leak');
      expect(env).toContain(`LANEVISOR_PORT=${lane.port}`);
      expect(env).toContain(`LANEVISOR_LANE_ID=${lane.id}`);
    }
    const freed = b?.port;
    await b?.cleanup();
    expect((await fixture.rt.createLane()).port).toBe(freed);
  });

  it('runs teardown at cleanup before the worktree goes; a failing one is reported and the cleanup completes', async () => {
    let copy = '';
    fixture = await createRuntimeFixture({}, 5, (repo) => {
      copy = join(dirname(repo), 'teardown-saw.env');
      withConfig({ teardown: { run: ['cp .env "$TEARDOWN_COPY"', 'exit 4'] }, env: { set: { TEARDOWN_COPY: copy } } })(
        repo,
      );
    });
    const lane = await fixture.rt.createLane({ setup: false });
    writeFileSync(join(lane.worktreePath, '.env'), 'written-in-the-lane\n');
    writeFileSync(join(lane.worktreePath, 'notes.txt'), 'uncommitted work\n');
    const report = await lane.cleanup();
    // It ran in the lane's worktree, with the lane's environment, while the worktree was still there.
    expect(readFileSync(copy, 'utf8')).toBe('written-in-the-lane\n');
    expect(report.teardown).toEqual({ ok: false, message: 'teardown: "exit 4" exited 4' });
    expect(existsSync(lane.worktreePath)).toBe(false);
    const steps = setupSteps(fixture.events).filter((step) => step.kind === 'teardown');
    expect(steps.map((step) => [step.index, step.total, step.exitCode])).toEqual([
      [1, 2, 0],
      [2, 2, 4],
    ]);
    // The lane's uncommitted work was still salvaged after its teardown.
    expect(report.salvagedRef).toMatch(/^refs\/lanevisor\/salvage\//);
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  });

  it('makes a sparse lane of a template: only its directories and the top files, the main worktree whole', async () => {
    fixture = await createRuntimeFixture({}, 30, withConfig({ templates: { one: { sparse: ['dir3'] } } }));
    const configBefore = gitIn(fixture.repo.path, 'config', '--local', '--list');
    const lane = await fixture.rt.createLane({ template: 'one' });
    const files = gitIn(lane.worktreePath, 'ls-files', '-t').split('\n');
    // Tracked everywhere, checked out only in the cone (H), skipped elsewhere (S).
    expect(
      files
        .filter((line) => line.startsWith('H '))
        .map((line) => line.slice(2))
        .sort(),
    ).toEqual(['.gitignore', 'dir3/file13.txt', 'dir3/file23.txt', 'dir3/file3.txt'].sort());
    expect(existsSync(join(lane.worktreePath, 'dir4'))).toBe(false);
    expect(gitIn(lane.worktreePath, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(fixture.repo.path, 'dir4', 'file4.txt'))).toBe(true);
    // The one change to the repository's config is the one git needs for a per-worktree sparse checkout.
    const added = gitIn(fixture.repo.path, 'config', '--local', '--list')
      .split('\n')
      .filter((line) => !configBefore.split('\n').includes(line));
    expect(added).toEqual(['extensions.worktreeconfig=true']);
    expect(
      gitIn(fixture.repo.path, 'ls-files', '-t')
        .split('\n')
        .filter((line) => !line.startsWith('H ')),
    ).toEqual([]);
    const report = await lane.cleanup();
    expect(report.salvagedRef).toBeNull();
    expect(leftovers(fixture)).toEqual(NOTHING_LEFT);
  });

  it("names lane branches with lanevisor.json's branchPrefix, and leaves the user's own branches under it alone", async () => {
    fixture = await createRuntimeFixture({}, 5, (repo) => {
      withConfig({ branchPrefix: 'agents/' })(repo);
      gitIn(repo, 'branch', 'agents/mine');
    });
    const lane = await fixture.rt.createLane({ label: 'x' });
    expect(lane.branch).toBe('agents/x');
    expect(gitIn(fixture.repo.path, 'rev-parse', '--abbrev-ref', 'agents/x')).toBe('agents/x');
    await fixture.rt.shutdown();
    // The next runtime finds both under the prefix: its own lane comes back, the user's branch is not an orphan.
    const next = await fixture.restart();
    expect(next.lanes().map((open) => open.branch)).toEqual(['agents/x']);
    await next.lanes()[0]?.cleanup();
    const branches = gitIn(
      fixture.repo.path,
      'for-each-ref',
      '--format=%(refname)',
      'refs/heads/agents/',
      'refs/lanevisor/',
    );
    expect(branches).toBe('refs/heads/agents/mine');
  });
});
