import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import { runLanevisor } from '../support/cli.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  if (repo) await runLanevisor(['clean', '--all', '--discard', '--repo', repo.path]);
  repo?.dispose();
  repo = undefined;
});

/** Two lanes with committed work that touches one file in both, made by a runtime that has ended since. */
async function twoLanes(path: string) {
  const rt = await createRuntime({ repo: path, pty: { host: 'inline' } });
  const [a, b] = [await rt.createLane({ label: 'a' }), await rt.createLane({ label: 'b' })];
  writeFileSync(join(a.worktreePath, 'dir1', 'file1.txt'), 'from a\n');
  writeFileSync(join(b.worktreePath, 'dir1', 'file1.txt'), 'from b\n');
  await rt.shutdown();
  return { a, b };
}

describe('lanevisor diff, commit, conflicts, merge', () => {
  it('shows, commits and merges lanes from the shell; a conflict exits 1 and changes nothing', async () => {
    repo = createTempRepo();
    const at = ['--repo', repo.path];
    const { a, b } = await twoLanes(repo.path);

    const diff = await runLanevisor(['diff', 'a', ...at]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(
      /^modified\s+\+1\s+-1\s+dir1\/file1\.txt\s+not committed\n\ndiff --git a\/dir1\/file1\.txt/,
    );
    expect(diff.stdout).toContain('+from a');
    expect(JSON.parse((await runLanevisor(['diff', 'a', '--json', ...at])).stdout)).toMatchObject({
      files: [{ path: 'dir1/file1.txt', additions: 1, deletions: 1 }],
    });

    for (const label of ['a', 'b']) {
      const commit = await runLanevisor(['commit', label, '-m', `work of ${label}`, ...at]);
      expect(commit.stdout).toMatch(/^committed [0-9a-f]{40}\n$/);
    }
    expect((await runLanevisor(['commit', 'a', '-m', 'again', ...at])).stdout).toBe('nothing to commit\n');
    writeFileSync(join(a.worktreePath, 'draft.txt'), 'not yet\n');
    expect((await runLanevisor(['diff', 'a', '--stat', ...at])).stdout).toMatch(
      /^modified\s+\+1\s+-1\s+dir1\/file1\.txt\s+committed\nadded\s+\+1\s+-0\s+draft\.txt\s+not committed\n$/,
    );
    rmSync(join(a.worktreePath, 'draft.txt'));

    const conflicts = await runLanevisor(['conflicts', ...at]);
    expect(conflicts.stdout).toBe(
      ['   a  b  base', 'a  -  1  .', 'b  1  -  .', '', 'a x b: dir1/file1.txt', ''].join('\n'),
    );
    expect(JSON.parse((await runLanevisor(['conflicts', '--json', ...at])).stdout)).toEqual([
      { lanes: [a.id, b.id], files: ['dir1/file1.txt'] },
    ]);

    const merged = await runLanevisor(['merge', 'a', '--squash', '-m', 'a, squashed', '--clean', ...at]);
    expect(merged.stdout).toMatch(
      new RegExp(
        `^merged lane a into main: ${gitIn(repo.path, 'rev-parse', 'main')}\ncleaned ${a.id} in \\d+ ms: branch lane/a kept \\(it has commits\\)\n$`,
      ),
    );
    expect(readFileSync(join(repo.path, 'dir1', 'file1.txt'), 'utf8')).toBe('from a\n');
    expect(gitIn(repo.path, 'log', '-1', '--format=%s', 'main')).toBe('a, squashed');

    const refs = gitIn(repo.path, 'for-each-ref', '--format=%(refname) %(objectname)');
    const refused = await runLanevisor(['merge', 'b', ...at]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^lanevisor: .*dir1\/file1\.txt/);
    expect(gitIn(repo.path, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(refs);
    expect(gitIn(repo.path, 'status', '--porcelain')).toBe('');

    const usage = await runLanevisor(['merge', 'b', '--squash', '--rebase', ...at]);
    expect(usage.code).toBe(2);
  });

  it('merge says what it left behind: uncommitted work stays in the worktree, or with --clean in its salvage ref', async () => {
    repo = createTempRepo();
    const at = ['--repo', repo.path];
    const rt = await createRuntime({ repo: repo.path, pty: { host: 'inline' } });
    const lanes = [await rt.createLane({ label: 'kept' }), await rt.createLane({ label: 'salvaged' })];
    const tidy = await rt.createLane({ label: 'tidy' });
    for (const [i, lane] of [...lanes, tidy].entries()) {
      writeFileSync(join(lane.worktreePath, `committed${i}.txt`), 'committed\n');
      await lane.commit(`work ${i}`);
    }
    for (const lane of lanes) writeFileSync(join(lane.worktreePath, 'draft.txt'), 'not committed\n');
    await rt.shutdown();

    const kept = await runLanevisor(['merge', 'kept', ...at]);
    expect(kept.code).toBe(0);
    expect(kept.stdout.split('\n')[1]).toBe(
      `note: lane kept has uncommitted or untracked work, which was not merged: it stays in ${lanes[0]?.worktreePath} (\`lanevisor commit kept -m MSG\`, then merge again, to include it)`,
    );
    expect(readFileSync(join(lanes[0]?.worktreePath as string, 'draft.txt'), 'utf8')).toBe('not committed\n');

    const salvaged = await runLanevisor(['merge', 'salvaged', '--clean', ...at]);
    const ref = `refs/lanevisor/salvage/${lanes[1]?.id}`;
    expect(salvaged.stdout).toContain(`, uncommitted work saved to ${ref}\n`);
    expect(salvaged.stdout).toContain(
      `note: lane salvaged has uncommitted or untracked work, which was not merged: it is in ${ref}\n`,
    );
    expect(gitIn(repo.path, 'show', `${ref}:draft.txt`)).toBe('not committed');

    const clean = await runLanevisor(['merge', 'tidy', ...at]);
    expect(clean.stdout).toBe(`merged lane tidy into main: ${gitIn(repo.path, 'rev-parse', 'main')}\n`);
  });

  it('run --template makes its lanes with the template: its setup runs before the command', async () => {
    repo = createTempRepo();
    writeFileSync(
      join(repo.path, 'lanevisor.json'),
      JSON.stringify({
        templates: { marked: { setup: { run: ['echo "set up for $LANEVISOR_LANE_ID" > marker.txt'] } } },
      }),
    );
    const run = await runLanevisor([
      'run',
      '--template',
      'marked',
      '--label',
      't',
      '--repo',
      repo.path,
      '--',
      'cat',
      'marker.txt',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\[t\] set up for lane_\w+/);
    expect(run.stdout).toMatch(/lane\.setup_step t 1\/1 run "echo .*" exitCode=0/);
    const unknown = await runLanevisor(['run', '--template', 'nope', '--repo', repo.path, '--', 'true']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no template "nope" in lanevisor.json; it has marked');
  });
});
