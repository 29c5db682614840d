import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLaneId } from '../../bus/ids.js';
import { EXIT_FAILURE, EXIT_OK } from '../../cli/program.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import type { Runtime } from '../../supervision/runtime/types.js';
import { runLanevisor } from '../support/cli.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
let holder: Runtime | undefined;
afterEach(async () => {
  await holder?.shutdown({ cleanupLanes: true });
  holder = undefined;
  repo?.dispose();
});

const run = (argv: string[], cwd?: string) => runLanevisor(argv, cwd === undefined ? {} : { cwd });

describe('lanevisor reconcile', () => {
  it('reports with --dry-run without changing anything, then does it', async () => {
    repo = createTempRepo();
    // A branch lanevisor made (its marker beside it) whose lane record is gone, and one of the user's.
    gitIn(repo.path, 'branch', 'lane/orphan', 'main');
    gitIn(repo.path, 'update-ref', 'refs/lanevisor/branches/lane/orphan', 'main');
    gitIn(repo.path, 'branch', 'lane/mine', 'main');
    const dry = await run(['reconcile', '--dry-run', '--json', '--repo', repo.path]);
    expect(dry).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      branches: { removed: 1, kept: 0 },
      details: { branches: { removed: ['lane/orphan'], kept: [] } },
    });
    const humanDry = await run(['reconcile', '--dry-run', '--repo', repo.path]);
    expect(humanDry.stdout).toContain('  remove     branch lane/orphan\n');
    expect(
      gitIn(repo.path, 'branch', '--list', 'lane/*')
        .split('\n')
        .map((b) => b.trim()),
    ).toEqual(['lane/mine', 'lane/orphan']);

    const human = await run(['reconcile'], join(repo.path, 'dir0'));
    expect(human.code).toBe(EXIT_OK);
    expect(human.stdout).toMatch(/^reconciled in \d+ ms:\n/);
    expect(human.stdout).toContain('  branches   removed 1, kept 0\n');
    expect(human.stdout).toContain('  removed    branch lane/orphan\n');
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('lane/mine');
  });

  it('names what it salvaged and what it could not read', async () => {
    repo = createTempRepo();
    const { mkdirSync } = await import('node:fs');
    const stray = join(repo.base, 'repo.lanes', createLaneId());
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, 'a.txt'), 'a\n');
    mkdirSync(join(repo.path, '.git', 'lanevisor', 'lanes'), { recursive: true });
    const bad = join(repo.path, '.git', 'lanevisor', 'lanes', 'lane_0000000000000000.json');
    writeFileSync(bad, 'nonsense');
    const result = await run(['reconcile', '--repo', repo.path]);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain(`  salvaged   refs/lanevisor/salvage/${stray.split('/').pop()}\n`);
    expect(result.stdout).toContain(`  unreadable ${bad} (left as it is)\n`);
  });

  it('fails with one line naming the holder while a runtime lives', async () => {
    repo = createTempRepo();
    holder = await createRuntime({ repo: repo.path });
    const result = await run(['reconcile', '--repo', repo.path]);
    expect(result).toMatchObject({ code: EXIT_FAILURE, stdout: '' });
    expect(result.stderr).toBe(`${result.stderr.split('\n')[0]}\n`);
    expect(result.stderr).toContain(`is held by runtime ${holder.id} (pid ${process.pid}`);
  });

  it('shows examples in its help', async () => {
    const result = await run(['reconcile', '--help']);
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('--dry-run');
    expect(result.stdout).toContain('Examples:');
  });
});
