import { LanevisorError } from '../../bus/errors.js';
import { git, gitError, gitOrThrow } from './git.js';
import { inRepository, type Repository } from './repository.js';

/**
 * Merges computed by `git merge-tree --write-tree` (git 2.38+): the result tree and its conflicts,
 * with nothing read from or written to any index or working tree. Only objects are written (the
 * result tree and its blobs), unreachable until a commit and a ref name them; gc takes them otherwise.
 */
export interface TreeMerge {
  /** The merged tree; when conflicted, its files carry conflict markers. */
  readonly tree: string;
  readonly clean: boolean;
  /** Files with conflicts, sorted, each once (empty when clean). */
  readonly conflicts: readonly string[];
  /** git's conflict notices ("CONFLICT (modify/delete): ..."), for a person. */
  readonly messages: readonly string[];
}

/** One `--stdin` request: merge `theirs` into `ours`. */
export interface MergePair {
  readonly ours: string;
  readonly theirs: string;
}

/** The stand-in commit is never referenced: any identity does, and one is needed where none is configured. */
const STAND_IN_IDENTITY = {
  GIT_AUTHOR_NAME: 'lanevisor',
  GIT_AUTHOR_EMAIL: 'lanevisor@localhost',
  GIT_COMMITTER_NAME: 'lanevisor',
  GIT_COMMITTER_EMAIL: 'lanevisor@localhost',
};

const MERGE_TREE = ['merge-tree', '--write-tree', '--name-only', '-z'] as const;
const CONFLICT_NOTICE = /^CONFLICT\b/;

/** The merge of two commits (their merge base found by git); GIT_ERROR when git cannot merge them at all. */
export async function mergeTrees(repository: Repository, ours: string, theirs: string): Promise<TreeMerge> {
  const args = [...MERGE_TREE, '--end-of-options', ours, theirs];
  const result = await git(args, inRepository(repository));
  // 0 clean, 1 conflicted; anything else is git failing (an unknown commit, unrelated histories).
  if (result.exitCode !== 0 && result.exitCode !== 1) throw gitError(args, result);
  const tokens = result.stdout.split('\0');
  const parsed = parseMerge(tokens, 0, result.exitCode === 0);
  return parsed.merge;
}

/**
 * Many merges in one git process (`merge-tree --stdin`): a process per pair is most of the cost
 * of a small merge. Results come back in the order of `pairs`.
 */
export async function mergeTreesBatch(repository: Repository, pairs: readonly MergePair[]): Promise<TreeMerge[]> {
  if (pairs.length === 0) return [];
  for (const pair of pairs) {
    assertObjectName(pair.ours);
    assertObjectName(pair.theirs);
  }
  const input = pairs.map((pair) => `${pair.ours} ${pair.theirs}\n`).join('');
  const args = [...MERGE_TREE, '--stdin'];
  const stdout = await gitOrThrow(args, { ...inRepository(repository), input });
  const tokens = stdout.split('\0');
  const merges: TreeMerge[] = [];
  let at = 0;
  for (const pair of pairs) {
    const status = Number(tokens[at]);
    if (!(status === 0 || status === 1)) {
      throw new LanevisorError('GIT_ERROR', `git merge-tree could not merge ${pair.theirs} into ${pair.ours}`, {
        details: { ours: pair.ours, theirs: pair.theirs, status: tokens[at] },
      });
    }
    const parsed = parseMerge(tokens, at + 1, status === 1);
    merges.push(parsed.merge);
    // Each merge of a batch ends with one more NUL: an empty token.
    at = parsed.next + 1;
  }
  return merges;
}

/**
 * The three-way merge of `ours` and `theirs` over an explicit base commit, which git 2.39's
 * merge-tree cannot be told (`--merge-base` came in 2.40). A stand-in commit with ours' tree and
 * `base` as its only parent gives git that base: `theirs` descends from `base` (a commit being
 * replayed onto `ours`), so `base` is the merge base of the two.
 */
export async function mergeTreesOver(
  repository: Repository,
  base: string,
  ours: string,
  theirs: string,
): Promise<TreeMerge> {
  for (const name of [base, ours]) assertObjectName(name);
  const options = inRepository(repository, repository.topLevel, STAND_IN_IDENTITY);
  const standIn = (
    await gitOrThrow(['commit-tree', `${ours}^{tree}`, '-p', base, '-m', 'lanevisor replay base'], options)
  ).trim();
  return mergeTrees(repository, standIn, theirs);
}

/**
 * Reads one merge's output from `tokens[at]`: the tree, the conflicted files up to an empty token,
 * then (only when conflicted) notices `<count> <paths…> <type> <message>` up to an empty token.
 */
function parseMerge(tokens: readonly string[], at: number, clean: boolean): { merge: TreeMerge; next: number } {
  const tree = tokens[at] ?? '';
  if (!/^[0-9a-f]{40,64}$/.test(tree)) {
    throw new LanevisorError('GIT_ERROR', `git merge-tree printed no tree (got ${JSON.stringify(tree.slice(0, 80))})`);
  }
  let i = at + 1;
  if (clean) {
    // A clean merge prints its tree only; the next token ends it (or is the end of the output).
    return { merge: { tree, clean, conflicts: [], messages: [] }, next: i };
  }
  const files = new Set<string>();
  for (; i < tokens.length && tokens[i] !== ''; i++) files.add(tokens[i] as string);
  i++;
  const messages: string[] = [];
  const noticed = new Set<string>();
  while (i < tokens.length && tokens[i] !== '') {
    const count = Number(tokens[i]);
    if (!Number.isInteger(count) || count < 0) break;
    const paths = tokens.slice(i + 1, i + 1 + count);
    const type = tokens[i + 1 + count] ?? '';
    const message = (tokens[i + 2 + count] ?? '').trim();
    i += count + 3;
    if (!CONFLICT_NOTICE.test(type)) continue;
    messages.push(message);
    for (const path of paths) noticed.add(path);
  }
  // Some conflicts (directory renames) leave no conflicted file; their notices still name the paths.
  const conflicts = files.size > 0 ? files : noticed;
  return { merge: { tree, clean, conflicts: [...conflicts].sort(), messages }, next: i };
}

/** `--stdin` takes whitespace-separated names without an end-of-options guard: only plain object names go in. */
function assertObjectName(name: string): void {
  if (!/^[0-9a-f]{40,64}$/.test(name)) {
    throw new LanevisorError('INVALID_ARGUMENT', `expected a full commit id, got ${JSON.stringify(name)}`);
  }
}
