import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../cli/io.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import { runLanevisor } from '../support/cli.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.dispose());

const cli = (...argv: string[]) => runLanevisor([...argv.slice(0, 1), '--repo', repo.path, ...argv.slice(1)]);
const DAY = 86_400_000;

/** A salvage ref saved `daysAgo` days ago, as a cleanup would have made it then. */
function oldSalvage(name: string, daysAgo: number): string {
  const tree = gitIn(repo.path, 'rev-parse', 'HEAD^{tree}');
  const date = `${Math.floor((Date.now() - daysAgo * DAY) / 1000)} +0000`;
  const commit = execFileSync('git', ['commit-tree', tree, '-p', 'HEAD', '-m', 'old salvage'], {
    cwd: repo.path,
    encoding: 'utf8',
    env: { ...process.env, GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date },
  }).trim();
  gitIn(repo.path, 'update-ref', `refs/lanevisor/salvage/${name}`, commit);
  return `refs/lanevisor/salvage/${name}`;
}

describe('housekeeping', () => {
  it('ls --salvaged lists the salvage refs: lane, when, how many files', async () => {
    repo = createTempRepo();
    expect((await cli('ls', '--salvaged')).stdout).toBe('no salvage refs\n');
    const rt = await createRuntime({ repo: repo.path });
    const lane = await rt.createLane({ label: 'draft' });
    writeFileSync(join(lane.worktreePath, 'a.txt'), 'a\n');
    writeFileSync(join(lane.worktreePath, 'b.txt'), 'b\n');
    const { salvagedRef } = await lane.cleanup();
    await rt.shutdown();
    const listed = await cli('ls', '--salvaged', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([
      {
        ref: salvagedRef,
        name: lane.id,
        commit: gitIn(repo.path, 'rev-parse', salvagedRef as string),
        savedAt: expect.any(Number),
        files: 2,
      },
    ]);
    const human = await cli('ls', '--salvaged');
    expect(human.stdout).toMatch(/^LANE\s+SAVED\s+AGE\s+FILES\s+REF\n/);
    expect(human.stdout).toMatch(
      new RegExp(`${lane.id}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+\\d+ s\\s+2\\s+${salvagedRef}`),
    );
  });

  it('prune removes logs and salvage refs past the age only, and with --dry-run only says what it would', async () => {
    repo = createTempRepo();
    const old = oldSalvage('lane_0ld0000000000000', 20);
    const recent = oldSalvage('lane_recent000000000', 2);
    const logs = join(repo.path, '.git', 'lanevisor', 'logs');
    mkdirSync(logs, { recursive: true });
    const oldLog = join(logs, 'lane_0ld0000000000000.log');
    const newLog = join(logs, 'lane_recent000000000.log');
    writeFileSync(oldLog, 'old output\n');
    writeFileSync(newLog, 'new output\n');
    const twentyDaysAgo = new Date(Date.now() - 20 * DAY);
    utimesSync(oldLog, twentyDaysAgo, twentyDaysAgo);

    const dry = await cli('prune', '--older-than', '14d', '--dry-run');
    expect(dry.code).toBe(EXIT_OK);
    expect(dry.stdout).toBe(
      `would remove log ${oldLog} (11 bytes, 20 d old)\nwould remove ${old} (0 files, saved 20 d ago)\n`,
    );
    expect(existsSync(oldLog)).toBe(true);
    expect(gitIn(repo.path, 'for-each-ref', '--format=%(refname)', 'refs/lanevisor/salvage/').split('\n')).toHaveLength(
      2,
    );

    const real = JSON.parse((await cli('prune', '--older-than', '14d', '--json')).stdout);
    expect(real).toMatchObject({ dryRun: false, logs: [{ path: oldLog }], salvagedRefs: [{ ref: old }] });
    expect(existsSync(oldLog)).toBe(false);
    expect(existsSync(newLog)).toBe(true);
    expect(gitIn(repo.path, 'for-each-ref', '--format=%(refname)', 'refs/lanevisor/salvage/')).toBe(recent);
    expect((await cli('prune', '--older-than', '14d')).stdout).toBe('nothing to prune\n');
  });
});
