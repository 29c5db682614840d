import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { conflictMatrix, type LaneTips } from '../actors/git/conflicts.js';
import { resolveRepository } from '../actors/git/repository.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize } from './stats.js';

/**
 * `rt.conflicts()` for N lanes: conflictMatrix (every pair and every lane against its base, in one
 * `merge-tree --stdin` process) against raw git doing the same merges, one `git merge-tree
 * --write-tree` process per pair as a script would, and, as the floor, the same `--stdin` run
 * without our parsing. Samples interleave, so a slower moment of the machine hits both sides.
 */
const PER_PAIR_RATIO_GOAL = 1;
const STDIN_RATIO_GOAL = 1.2;
const FILES = 400;
const FILES_PER_LANE = 5;
/** Lanes that also edit one shared line, pairwise conflicting: a few overlaps among many clean pairs. */
const OVERLAPPING_LANES = [0, 1, 2, 10, 11];
/** A lane whose file the base branch changes as well: a conflict with the base. */
const BASE_CONFLICT_LANE = 5;

const git = (cwd: string, ...args: string[]) => execa('git', args, { cwd });

async function makeLanes(lanes: number): Promise<{ repo: string; tips: LaneTips[]; dispose: () => void }> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'lanevisor-bench-conflicts-')));
  const repo = join(base, 'repo');
  mkdirSync(repo);
  await git(repo, 'init', '-q', '-b', 'main');
  await git(repo, 'config', 'user.name', 'bench');
  await git(repo, 'config', 'user.email', 'bench@localhost');
  const file = (i: number) => join(repo, `dir${i % 20}`, `file${i}.txt`);
  for (let i = 0; i < FILES; i++) {
    mkdirSync(join(repo, `dir${i % 20}`), { recursive: true });
    writeFileSync(file(i), `line 1 of ${i}\nline 2 of ${i}\nline 3 of ${i}\n`);
  }
  writeFileSync(join(repo, 'shared.txt'), 'top\nthe shared line\nbottom\n');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'base');
  for (let lane = 0; lane < lanes; lane++) {
    await git(repo, 'checkout', '-q', '-b', `lane/${lane}`, 'main');
    for (let k = 0; k < FILES_PER_LANE; k++) {
      const i = lane * FILES_PER_LANE + k;
      writeFileSync(file(i), `line 1 of ${i}\nlane ${lane} was here\nline 3 of ${i}\n`);
    }
    if (OVERLAPPING_LANES.includes(lane)) {
      writeFileSync(join(repo, 'shared.txt'), `top\nlane ${lane}'s shared line\nbottom\n`);
    }
    await git(repo, 'commit', '-q', '-a', '-m', `lane ${lane}`);
  }
  await git(repo, 'checkout', '-q', 'main');
  const baseEdit = BASE_CONFLICT_LANE * FILES_PER_LANE;
  writeFileSync(file(baseEdit), `line 1 of ${baseEdit}\nthe base moved here\nline 3 of ${baseEdit}\n`);
  await git(repo, 'commit', '-q', '-a', '-m', 'base moves');
  const baseTip = (await git(repo, 'rev-parse', 'main')).stdout.trim();
  const tips: LaneTips[] = [];
  for (let lane = 0; lane < lanes; lane++) {
    const head = (await git(repo, 'rev-parse', `lane/${lane}`)).stdout.trim();
    tips.push({ id: `lane-${lane}`, head, baseTip });
  }
  return { repo, tips, dispose: () => rmSync(base, { recursive: true, force: true }) };
}

/** The same merges conflictMatrix makes, in its order: each pair, then each lane against its base. */
function pairsOf(tips: readonly LaneTips[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < tips.length; i++) {
    for (let j = i + 1; j < tips.length; j++) pairs.push([(tips[i] as LaneTips).head, (tips[j] as LaneTips).head]);
  }
  for (const lane of tips) pairs.push([lane.baseTip, lane.head]);
  return pairs;
}

/** Raw git, one process per merge; returns how many conflicted (exit 1). */
async function rawPerPair(repo: string, pairs: ReadonlyArray<[string, string]>): Promise<number> {
  let conflicted = 0;
  for (const [a, b] of pairs) {
    const result = await execa('git', ['merge-tree', '--write-tree', '--name-only', '-z', a, b], {
      cwd: repo,
      reject: false,
    });
    if (result.exitCode === 1) conflicted++;
    else if (result.exitCode !== 0) throw new Error(`git merge-tree failed: ${result.stderr}`);
  }
  return conflicted;
}

/** Raw git, all merges in one `--stdin` process, output not parsed. */
async function rawStdin(repo: string, pairs: ReadonlyArray<[string, string]>): Promise<void> {
  const input = pairs.map(([a, b]) => `${a} ${b}\n`).join('');
  await execa('git', ['merge-tree', '--write-tree', '--name-only', '-z', '--stdin'], { cwd: repo, input });
}

export async function benchConflictMatrix(lanes: number, samples: number): Promise<BenchResult> {
  const { repo, tips, dispose } = await makeLanes(lanes);
  try {
    const repository = await resolveRepository(repo);
    const pairs = pairsOf(tips);
    const ours: number[] = [];
    const perPair: number[] = [];
    const stdin: number[] = [];
    // One untimed round first: the first merges of a fresh repository read its objects from disk.
    await conflictMatrix(repository, tips);
    await rawStdin(repo, pairs);
    let conflictEntries = 0;
    let rawConflicted = 0;
    for (let i = 0; i < samples; i++) {
      let started = nowNs();
      conflictEntries = (await conflictMatrix(repository, tips)).length;
      ours.push(elapsedMs(started));
      started = nowNs();
      rawConflicted = await rawPerPair(repo, pairs);
      perPair.push(elapsedMs(started));
      started = nowNs();
      await rawStdin(repo, pairs);
      stdin.push(elapsedMs(started));
    }
    const o = summarize(ours);
    const p = summarize(perPair);
    const s = summarize(stdin);
    return {
      bench: 'conflicts.matrix',
      lanes,
      merges: pairs.length,
      samples,
      conflictEntries,
      // The two must agree, or the comparison is of different work.
      rawConflicted,
      oursP50Ms: round(o.p50, 1),
      oursP95Ms: round(o.p95, 1),
      rawPerPairP50Ms: round(p.p50, 1),
      rawPerPairP95Ms: round(p.p95, 1),
      rawStdinP50Ms: round(s.p50, 1),
      rawStdinP95Ms: round(s.p95, 1),
      p50RatioToPerPair: round(o.p50 / p.p50),
      p50RatioToStdin: round(o.p50 / s.p50),
      goal: `p50 <= ${PER_PAIR_RATIO_GOAL}x raw per-pair merge-tree and <= ${STDIN_RATIO_GOAL}x raw --stdin, same conflicts`,
      met:
        conflictEntries === rawConflicted && o.p50 <= PER_PAIR_RATIO_GOAL * p.p50 && o.p50 <= STDIN_RATIO_GOAL * s.p50,
    };
  } finally {
    dispose();
  }
}
