import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { createRuntime } from '../supervision/runtime/runtime.js';
import type { Runtime } from '../supervision/runtime/types.js';
import type { BenchFs } from './lanes.js';
import { type BenchResult, elapsedMs, nowNs, round, summarize } from './stats.js';

/**
 * A lane of one directory against a full lane, on a generated repository of `dirs` x `filesPerDir`
 * small files (one commit): lanevisor's createLane with no lanevisor.json, and with `{"sparse":
 * [one dir]}`, each beside raw git doing the same (`worktree add`; `worktree add --no-checkout` +
 * `sparse-checkout set --cone` + `checkout`). lanevisor reads lanevisor.json when a runtime starts,
 * so the sparse lanes come from a second repository, a clone of the first with the file untracked
 * in its main tree; raw sparse runs in that clone too (sparse-checkout turns on
 * `extensions.worktreeConfig` there), raw full in the first. All kinds of sample take turns,
 * the order rotating each round, so a slower moment of the machine hits each of them alike.
 *
 * A fifth kind, for reference only (no goal): raw git's sparse lane with `--sparse-index`, whose
 * index holds the directories outside the cone as one tree entry each instead of a skip-worktree
 * entry per file, to show how much of the sparse lane's time is the full-size index.
 */
const SPARSE_RATIO_GOAL = 0.1;
const SPARSE_DIR = 'd000';

const git = (cwd: string, ...args: string[]) => execa('git', args, { cwd });
const dirName = (d: number) => `d${String(d).padStart(3, '0')}`;

/**
 * The repository in one `git fast-import` (no file is written for it but the pack), then its main
 * tree checked out: writing 100,000 files through node and `git add` would take minutes on a disk.
 */
async function makeWideRepo(base: string, dirs: number, filesPerDir: number): Promise<string> {
  const repo = join(base, 'full');
  mkdirSync(repo);
  await git(repo, 'init', '-q', '-b', 'main');
  const parts = ['commit refs/heads/main\ncommitter bench <bench@localhost> 1700000000 +0000\ndata 4\ninit\n'];
  for (let d = 0; d < dirs; d++) {
    for (let f = 0; f < filesPerDir; f++) {
      const path = `${dirName(d)}/f${String(f).padStart(4, '0')}.txt`;
      const content = `content of ${path}\n`.repeat(4);
      parts.push(`M 100644 inline ${path}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
    }
  }
  await execa('git', ['fast-import', '--quiet'], { cwd: repo, input: parts.join('') });
  await git(repo, 'reset', '-q', '--hard', 'main');
  return repo;
}

/** Raw git's worktrees go where the runtime's do (its default `<repo>.lanes`), as in lanes.ts. */
function worktreeRootOf(repo: string): string {
  const root = `${repo}.lanes`;
  mkdirSync(root, { recursive: true });
  return root;
}

interface Footprint {
  /** Regular files and symlinks in the worktree, its `.git` file left out. */
  readonly files: number;
  /** Their sizes (what `du -sb --exclude=.git` counts, less the directories). */
  readonly bytes: number;
  /** The blocks they and the directories hold (`du -s`): on tmpfs a page per small file. */
  readonly allocatedBytes: number;
  /** The worktree's own directory under `.git/worktrees/` (its index, HEAD, sparse patterns). */
  readonly gitAdminBytes: number;
  readonly gitAdminAllocatedBytes: number;
}

function walk(dir: string, skipDotGit: boolean, into: { files: number; bytes: number; allocated: number }): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipDotGit && entry.name === '.git') continue;
    const path = join(dir, entry.name);
    const stat = lstatSync(path);
    into.allocated += stat.blocks * 512;
    if (entry.isDirectory()) walk(path, false, into);
    else {
      into.files += 1;
      into.bytes += stat.size;
    }
  }
}

function footprint(worktree: string): Footprint {
  const tree = { files: 0, bytes: 0, allocated: 0 };
  walk(worktree, true, tree);
  const pointer = readFileSync(join(worktree, '.git'), 'utf8')
    .trim()
    .replace(/^gitdir: /, '');
  const adminDir = isAbsolute(pointer) ? pointer : resolve(worktree, pointer);
  const admin = { files: 0, bytes: 0, allocated: 0 };
  walk(adminDir, false, admin);
  return {
    files: tree.files,
    bytes: tree.bytes,
    allocatedBytes: tree.allocated,
    gitAdminBytes: admin.bytes,
    gitAdminAllocatedBytes: admin.allocated,
  };
}

type Kind = 'rawFull' | 'oursFull' | 'rawSparse' | 'oursSparse' | 'rawSparseIndex';
type RawKind = Exclude<Kind, 'oursFull' | 'oursSparse'>;
const KINDS: readonly Kind[] = ['rawFull', 'oursFull', 'rawSparse', 'oursSparse', 'rawSparseIndex'];

export async function benchSparseLane(
  dirs: number,
  filesPerDir: number,
  samples: number,
  fs: BenchFs,
): Promise<BenchResult> {
  const totalFiles = dirs * filesPerDir;
  const base = realpathSync(mkdtempSync(join(fs === 'tmpfs' ? '/dev/shm' : tmpdir(), 'lanevisor-bench-sparse-')));
  let full: Runtime | undefined;
  let sparse: Runtime | undefined;
  try {
    let started = nowNs();
    const fullRepo = await makeWideRepo(base, dirs, filesPerDir);
    const sparseRepo = join(base, 'sparse');
    await git(base, 'clone', '-q', fullRepo, sparseRepo);
    writeFileSync(join(sparseRepo, 'lanevisor.json'), `${JSON.stringify({ sparse: [SPARSE_DIR] })}\n`);
    const setupMs = elapsedMs(started);
    full = await createRuntime({ repo: fullRepo });
    sparse = await createRuntime({ repo: sparseRepo });
    const runtimes = { oursFull: full, oursSparse: sparse };
    const roots = { full: worktreeRootOf(fullRepo), sparse: worktreeRootOf(sparseRepo) };

    const times: Record<Kind, number[]> = {
      rawFull: [],
      oursFull: [],
      rawSparse: [],
      oursSparse: [],
      rawSparseIndex: [],
    };
    const footprints: Partial<Record<Kind, Footprint>> = {};
    const rawSparseSteps = { add: [] as number[], set: [] as number[], checkout: [] as number[] };
    const check = (kind: Kind, worktree: string) => {
      const measured = footprint(worktree);
      const expected = kind.endsWith('Full') ? totalFiles : filesPerDir;
      if (measured.files !== expected) throw new Error(`${kind} worktree has ${measured.files} files, not ${expected}`);
      footprints[kind] ??= measured;
    };

    const sampleRaw = async (kind: RawKind, i: number) => {
      const repo = kind === 'rawFull' ? fullRepo : sparseRepo;
      const path = join(kind === 'rawFull' ? roots.full : roots.sparse, `${kind}-${i}`);
      const branch = `raw/${kind}-${i}`;
      const t0 = nowNs();
      if (kind === 'rawFull') {
        await git(repo, 'worktree', 'add', '-q', '-b', branch, path, 'HEAD');
      } else {
        await git(repo, 'worktree', 'add', '-q', '--no-checkout', '-b', branch, path, 'HEAD');
        const t1 = nowNs();
        const sparseIndex = kind === 'rawSparseIndex' ? ['--sparse-index'] : [];
        await git(path, 'sparse-checkout', 'set', '--cone', ...sparseIndex, '--', SPARSE_DIR);
        const t2 = nowNs();
        await git(path, 'checkout', '-q');
        if (kind === 'rawSparse') {
          rawSparseSteps.add.push(Number(t1 - t0) / 1e6);
          rawSparseSteps.set.push(Number(t2 - t1) / 1e6);
          rawSparseSteps.checkout.push(elapsedMs(t2));
        }
      }
      times[kind].push(elapsedMs(t0));
      check(kind, path);
      await git(repo, 'worktree', 'remove', '--force', path);
      await git(repo, 'branch', '-q', '-D', branch);
    };
    const sampleOurs = async (kind: 'oursFull' | 'oursSparse') => {
      const t0 = nowNs();
      const lane = await runtimes[kind].createLane();
      times[kind].push(elapsedMs(t0));
      check(kind, lane.worktreePath);
      await lane.cleanup({ discard: true });
    };

    started = nowNs();
    for (let i = 0; i < samples; i++) {
      for (let k = 0; k < KINDS.length; k++) {
        const kind = KINDS[(i + k) % KINDS.length] as Kind;
        if (kind === 'oursFull' || kind === 'oursSparse') await sampleOurs(kind);
        else await sampleRaw(kind, i);
      }
    }
    const samplingMs = elapsedMs(started);

    const s = Object.fromEntries(KINDS.map((kind) => [kind, summarize(times[kind])])) as Record<
      Kind,
      ReturnType<typeof summarize>
    >;
    const fp = footprints as Record<Kind, Footprint>;
    const timeRatio = (a: Kind, b: Kind) => ({ p50: round(s[a].p50 / s[b].p50), p95: round(s[a].p95 / s[b].p95) });
    const diskRatio = (a: Kind, b: Kind) => ({
      bytes: round(fp[a].bytes / fp[b].bytes, 4),
      allocated: round(fp[a].allocatedBytes / fp[b].allocatedBytes, 4),
      withGitAdmin: round((fp[a].bytes + fp[a].gitAdminBytes) / (fp[b].bytes + fp[b].gitAdminBytes), 4),
      allocatedWithGitAdmin: round(
        (fp[a].allocatedBytes + fp[a].gitAdminAllocatedBytes) / (fp[b].allocatedBytes + fp[b].gitAdminAllocatedBytes),
        4,
      ),
    });
    const lane = (kind: Kind) => ({
      p50Ms: round(s[kind].p50, 1),
      p95Ms: round(s[kind].p95, 1),
      files: fp[kind].files,
      bytes: fp[kind].bytes,
      allocatedBytes: fp[kind].allocatedBytes,
      gitAdminBytes: fp[kind].gitAdminBytes,
    });
    const oursTime = timeRatio('oursSparse', 'oursFull');
    const oursDisk = diskRatio('oursSparse', 'oursFull');
    return {
      bench: 'lanes.sparse_vs_full',
      fs,
      files: totalFiles,
      dirs,
      sparse: [SPARSE_DIR],
      samples,
      setupMs: Math.round(setupMs),
      samplingMs: Math.round(samplingMs),
      oursFull: lane('oursFull'),
      rawFull: lane('rawFull'),
      oursSparse: lane('oursSparse'),
      rawSparse: lane('rawSparse'),
      rawSparseIndexForReference: lane('rawSparseIndex'),
      rawSparseStepsP50Ms: {
        worktreeAddNoCheckout: round(summarize(rawSparseSteps.add).p50, 1),
        sparseCheckoutSet: round(summarize(rawSparseSteps.set).p50, 1),
        checkout: round(summarize(rawSparseSteps.checkout).p50, 1),
      },
      sparseOverFullTime: {
        ours: oursTime,
        raw: timeRatio('rawSparse', 'rawFull'),
        rawSparseIndex: timeRatio('rawSparseIndex', 'rawFull'),
      },
      sparseOverFullDisk: {
        ours: oursDisk,
        raw: diskRatio('rawSparse', 'rawFull'),
        rawSparseIndex: diskRatio('rawSparseIndex', 'rawFull'),
      },
      oursOverRawTime: { full: timeRatio('oursFull', 'rawFull'), sparse: timeRatio('oursSparse', 'rawSparse') },
      oursOverRawDisk: { full: diskRatio('oursFull', 'rawFull'), sparse: diskRatio('oursSparse', 'rawSparse') },
      goal: `lanevisor's sparse lane <= ${SPARSE_RATIO_GOAL}x a full lane's p50 time and worktree bytes`,
      met: oursTime.p50 <= SPARSE_RATIO_GOAL && oursDisk.bytes <= SPARSE_RATIO_GOAL,
    };
  } finally {
    await Promise.allSettled([full?.shutdown({ cleanupLanes: true }), sparse?.shutdown({ cleanupLanes: true })]);
    rmSync(base, { recursive: true, force: true });
  }
}
