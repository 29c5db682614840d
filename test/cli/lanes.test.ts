import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../cli/program.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import { runLanevisor } from '../support/cli.js';
import { createTempRepo, gitIn, type TempRepo } from '../support/git-repo.js';

let repo: TempRepo;
afterEach(() => repo?.dispose());

const run = (argv: string[]) => runLanevisor(argv);

/** Two lanes made by a runtime that then shut down (lanes kept), as an orchestrator leaves them. */
async function twoLanes() {
  repo = createTempRepo();
  const rt = await createRuntime({ repo: repo.path });
  const alpha = await rt.createLane({ label: 'alpha', agent: 'agent-1' });
  const beta = await rt.createLane({ label: 'beta' });
  writeFileSync(join(beta.worktreePath, 'draft.txt'), 'draft\n');
  await rt.shutdown();
  return { alpha, beta };
}

describe('lanevisor ls, exec, clean', () => {
  it('lists lanes from the state directory, as a table and as JSON', async () => {
    const { alpha, beta } = await twoLanes();
    const json = await run(['ls', '--json', '--repo', repo.path]);
    expect(json.code).toBe(EXIT_OK);
    const lanes = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(lanes).toMatchObject([
      {
        id: alpha.id,
        label: 'alpha',
        state: 'ready',
        branch: 'lane/alpha',
        dirty: false,
        missing: false,
        agents: ['agent-1'],
      },
      { id: beta.id, label: 'beta', state: 'ready', branch: 'lane/beta', worktreePath: beta.worktreePath, dirty: true },
    ]);
    expect(typeof lanes[0]?.createdAt).toBe('number');
    const human = await run(['ls', '--repo', repo.path]);
    const [header, first, second] = human.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+LABEL\s+STATE\s+BRANCH\s+AGE\s+WORK\s+WORKTREE$/);
    expect(first).toMatch(new RegExp(`^${alpha.id}\\s+alpha\\s+ready\\s+lane/alpha\\s+\\d+ s\\s+clean\\s+`));
    expect(second).toContain('dirty');
    // A worktree that is gone is shown as missing (a reconcile would clean the lane).
    gitIn(repo.path, 'worktree', 'remove', '--force', '--force', alpha.worktreePath);
    expect(JSON.parse((await run(['ls', '--json', '--repo', repo.path])).stdout)[0]).toMatchObject({
      dirty: false,
      missing: true,
    });
    expect((await run(['ls', '--repo', repo.path])).stdout).toMatch(new RegExp(`${alpha.id}.*missing`));
  });

  it("runs a command in a lane and exits with the command's exit code", async () => {
    const { beta } = await twoLanes();
    const status = await run(['exec', 'beta', '--repo', repo.path, '--', 'git', 'status', '--short']);
    expect(status).toMatchObject({ code: EXIT_OK, stdout: '?? draft.txt\n', stderr: '' });
    const failing = await run(['exec', beta.id, '--repo', repo.path, '--', 'bash', '-c', 'echo oops >&2; exit 7']);
    expect(failing).toMatchObject({ code: 7, stdout: '', stderr: 'oops\n' });
    const json = await run(['exec', 'beta', '--json', '--repo', repo.path, '--', 'pwd']);
    expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: 0, stdout: `${beta.worktreePath}\n` });
    const missing = await run(['exec', 'gamma', '--repo', repo.path, '--', 'true']);
    expect(missing.code).toBe(EXIT_FAILURE);
    expect(missing.stderr).toBe('lanevisor: no lane "gamma"; known: alpha, beta (lanevisor ls)\n');
  });

  it('cleans named lanes or all of them, saving uncommitted work', async () => {
    const { alpha, beta } = await twoLanes();
    expect((await run(['clean', '--repo', repo.path])).code).toBe(EXIT_USAGE);
    const one = await run(['clean', 'beta', '--repo', repo.path]);
    expect(one.code).toBe(EXIT_OK);
    expect(one.stdout).toMatch(
      new RegExp(
        `^cleaned ${beta.id} in \\d+ ms: branch lane/beta removed, uncommitted work saved to refs/lanevisor/salvage/${beta.id}\\n$`,
      ),
    );
    const rest = await run(['clean', '--all', '--json', '--repo', repo.path]);
    expect(JSON.parse(rest.stdout)).toMatchObject([{ laneId: alpha.id, branchKept: false, salvagedRef: null }]);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
    expect(JSON.parse((await run(['ls', '--json', '--repo', repo.path])).stdout)).toEqual([]);
  });

  it('every command has help with examples; a bad option is a usage error', async () => {
    for (const command of ['ls', 'exec', 'clean', 'reconcile']) {
      const help = await run([command, '--help']);
      expect(help.code).toBe(EXIT_OK);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain('--json');
    }
    expect((await run(['ls', '--bogus'])).code).toBe(EXIT_USAGE);
  });
});
