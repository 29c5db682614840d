import { LanevisorError } from '../../bus/errors.js';
import { gitOrThrow } from './git.js';
import { mergeTreesOver } from './merge-tree.js';
import { inRepository, type Repository } from './repository.js';

/**
 * A branch's commits replayed one by one onto another commit, as `git rebase` would make them
 * (its author, date and message kept, a new committer), computed with merge-tree and commit-tree
 * only: no worktree, index or ref is touched, and the commits stay unreachable until a caller
 * moves a ref to the last one.
 *
 * Which commits, as `git rebase` picks them: those of the branch the target lacks, oldest first,
 * merge commits left out (what they merged in is replayed, or already in the target) and commits
 * whose change the target already has (same patch id) skipped; a commit whose change comes out
 * empty on top of the target is dropped too. Commits that already sit on the target are kept as
 * they are (a fast-forward), so replaying a branch onto its own base gives back the branch.
 */
export interface ReplayRequest {
  /** Where the replayed commits go: the target branch's tip. */
  readonly onto: string;
  readonly branchTip: string;
  /** For messages: the names of the two branches. */
  readonly branch: string;
  readonly into: string;
  /** Extra `commit-tree` arguments (`-S` to sign). */
  readonly commitArgs: readonly string[];
}

export interface ReplayResult {
  /** The last commit of the linear result (`onto` itself when every commit was dropped). */
  readonly head: string;
  /** The commits on top of `onto`, oldest first. */
  readonly commits: readonly string[];
}

interface CommitInfo {
  readonly sha: string;
  readonly tree: string;
  readonly parent: string;
  readonly authorName: string;
  readonly authorEmail: string;
  readonly authorDate: string;
  readonly message: string;
}

const LOG_FIELDS = ['%H', '%T', '%P', '%an', '%ae', '%ad', '%B'] as const;

export async function replayCommits(repository: Repository, request: ReplayRequest): Promise<ReplayResult> {
  const options = inRepository(repository);
  const commits = await commitsToReplay(repository, request.onto, request.branchTip);
  let head = request.onto;
  let headTree = (await gitOrThrow(['rev-parse', '--verify', `${request.onto}^{tree}`], options)).trim();
  const made: string[] = [];
  for (const commit of commits) {
    if (commit.parent === head) {
      head = commit.sha;
      headTree = commit.tree;
      made.push(head);
      continue;
    }
    const merge = await mergeTreesOver(repository, commit.parent, head, commit.sha);
    if (!merge.clean) {
      const subject = commit.message.split('\n')[0] ?? '';
      throw new LanevisorError(
        'CONFLICT',
        `rebasing ${request.branch} onto ${request.into}: commit ${commit.sha.slice(0, 12)} ("${subject}") conflicts in ${merge.conflicts.join(', ') || 'the tree (see details.messages)'}; nothing was changed`,
        {
          details: {
            files: merge.conflicts,
            commit: commit.sha,
            branch: request.branch,
            into: request.into,
            messages: merge.messages,
          },
        },
      );
    }
    if (merge.tree === headTree) continue;
    const author = {
      GIT_AUTHOR_NAME: commit.authorName,
      GIT_AUTHOR_EMAIL: commit.authorEmail,
      GIT_AUTHOR_DATE: commit.authorDate,
    };
    head = (
      await gitOrThrow(['commit-tree', ...request.commitArgs, merge.tree, '-p', head, '-F', '-'], {
        ...inRepository(repository, repository.topLevel, author),
        input: commit.message,
      })
    ).trim();
    headTree = merge.tree;
    made.push(head);
  }
  return { head, commits: made };
}

/** The branch's commits the target lacks, oldest first, as rebase picks them (see above). */
async function commitsToReplay(repository: Repository, onto: string, branchTip: string): Promise<CommitInfo[]> {
  const output = await gitOrThrow(
    [
      'log',
      `--format=${LOG_FIELDS.map((field) => `${field}%x00`).join('')}`,
      '--date=raw',
      '--reverse',
      '--topo-order',
      '--no-merges',
      '--right-only',
      '--cherry-pick',
      '--end-of-options',
      `${onto}...${branchTip}`,
    ],
    inRepository(repository),
  );
  // Every field ends with a NUL and every commit with a newline, so a message comes back exactly
  // (the runner strips the output's last newline, which here follows a NUL).
  const tokens = output.split('\0');
  const commits: CommitInfo[] = [];
  for (let i = 0; i + LOG_FIELDS.length <= tokens.length; i += LOG_FIELDS.length) {
    const [sha, tree, parents, authorName, authorEmail, authorDate, message] = tokens.slice(i, i + LOG_FIELDS.length);
    commits.push({
      sha: (sha as string).replace(/^\n/, ''),
      tree: tree as string,
      parent: (parents as string).split(' ')[0] as string,
      authorName: authorName as string,
      authorEmail: authorEmail as string,
      authorDate: authorDate as string,
      message: message as string,
    });
  }
  return commits;
}
