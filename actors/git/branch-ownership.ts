import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BRANCH_KEPT_REASONS } from '../../bus/lifecycle.js';
import { git, gitError, gitOrThrow } from './git.js';
import { branchesCheckedOut } from './git-files.js';
import { inRepository, type Repository } from './repository.js';

/**
 * Which branches are lanevisor's to delete. A branch is ours only when lanevisor can prove it
 * made it: every branch it creates gets a marker ref, `refs/lanevisor/branches/<branch>`, at the
 * commit the branch started from, created in the same ref transaction as the branch (so there is
 * no moment at which one exists without the other). The branch is still ours while that marker
 * is in its history. Everything else — a branch under `lane/` the user made, one whose history was
 * rewritten past its start, one with an upstream, one checked out somewhere, one named by any git
 * config — is the user's and is never deleted, whatever its commits.
 */
export const BRANCH_MARKER_PREFIX = 'refs/lanevisor/branches/';

export function markerRef(branch: string): string {
  return `${BRANCH_MARKER_PREFIX}${branch}`;
}

/** Why a branch is kept rather than deleted: the bus's list (`lane.branch_kept`, the reconciliation report). */
export type BranchKeptReason = (typeof BRANCH_KEPT_REASONS)[number];

/** What git says about one branch, read once for every decision about it. */
export interface BranchFacts {
  readonly branch: string;
  /** Null when the branch does not exist. */
  readonly tip: string | null;
  readonly marker: string | null;
  readonly upstream: boolean;
  readonly configured: boolean;
  readonly checkedOut: boolean;
}

/** A marker being written, in the git directory: `lanevisor-marker-XXXXXXXXXXXX`. */
const MARKER_TEMP_PREFIX = 'lanevisor-marker-';

/**
 * Writes a branch's marker: a loose ref file, written atomically (a temporary file in the git
 * directory renamed into place), with no git process on the hot path of a lane's creation.
 */
export async function writeMarker(repository: Repository, branch: string, sha: string): Promise<void> {
  const path = join(repository.commonDir, markerRef(branch));
  await mkdir(dirname(path), { recursive: true });
  // Outside refs/, so a temporary file a crash leaves behind is never read as a ref.
  const temp = join(repository.commonDir, `${MARKER_TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
  await writeFile(temp, `${sha}\n`);
  await rename(temp, path);
}

/** Removes a marker if it still holds `sha` (the lane's branch turned out to be somebody else's). */
export async function removeMarker(repository: Repository, branch: string, sha: string): Promise<void> {
  await updateRefs(repository, [`delete ${markerRef(branch)} ${sha}`]);
}

/** Removes the temporary marker files a crash left (call under the repository lock). */
export async function removeMarkerScratch(repository: Repository): Promise<void> {
  const names = await readdir(repository.commonDir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(MARKER_TEMP_PREFIX))
      .map((name) => rm(join(repository.commonDir, name), { force: true })),
  );
}

/** git's refusal to make a branch that exists, or that a branch below it (`lane/x/y`) blocks. */
export function branchExistsRefusal(stderr: string, branch: string): boolean {
  return /a branch named '.*' already exists/.test(stderr) || refBlocked(stderr, `refs/heads/${branch}`);
}

/**
 * Deletes a branch and its marker in one transaction, only if both still are what `facts` read
 * (compare-and-swap); returns false, deleting nothing, when either moved. Call under the repository lock.
 */
export async function deleteMarkedBranch(repository: Repository, facts: BranchFacts): Promise<boolean> {
  if (facts.tip === null || facts.marker === null) return false;
  const result = await updateRefs(repository, [
    `delete refs/heads/${facts.branch} ${facts.tip}`,
    `delete ${markerRef(facts.branch)} ${facts.marker}`,
  ]);
  return result.exitCode === 0;
}

/** Removes a branch's marker, handing the branch over to the user for good (a kept lane branch). */
export async function releaseBranch(repository: Repository, facts: BranchFacts): Promise<void> {
  if (facts.marker === null) return;
  await updateRefs(repository, [`delete ${markerRef(facts.branch)} ${facts.marker}`]);
}

/**
 * The facts of every branch under `refs/heads/<prefix>`, and the markers left without a branch.
 * Worktrees in `goingAway` (about to be removed) do not count as having their branch checked out;
 * given as a promise, it is waited for after git answered (git runs while it is worked out).
 */
export async function readBranchFacts(
  repository: Repository,
  prefix: string,
  goingAway: ReadonlySet<string> | Promise<ReadonlySet<string>> = new Set(),
): Promise<{ branches: BranchFacts[]; staleMarkers: Array<{ branch: string; sha: string }> }> {
  const [refs, config] = await Promise.all([
    gitOrThrow(
      ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(upstream)', `refs/heads/${prefix}`, markerRef(prefix)],
      inRepository(repository),
    ),
    readConfig(repository),
  ]);
  const tips = new Map<string, { sha: string; upstream: boolean }>();
  const markers = new Map<string, string>();
  for (const line of refs.split('\n')) {
    const [name = '', sha = '', upstream = ''] = line.split('\0');
    if (name.startsWith('refs/heads/')) tips.set(name.slice('refs/heads/'.length), { sha, upstream: upstream !== '' });
    else if (name.startsWith(BRANCH_MARKER_PREFIX)) markers.set(name.slice(BRANCH_MARKER_PREFIX.length), sha);
  }
  const checkedOut = branchesCheckedOut(repository.commonDir, await goingAway);
  const branches = [...tips].map(([branch, tip]) =>
    factsOf(branch, tip.sha, markers.get(branch) ?? null, tip.upstream, config, checkedOut),
  );
  const staleMarkers = [...markers].filter(([branch]) => !tips.has(branch)).map(([branch, sha]) => ({ branch, sha }));
  return { branches, staleMarkers };
}

/** The facts of one branch (its tip null when it is gone, its marker then a stale one, if any). */
export async function readOneBranch(
  repository: Repository,
  branch: string,
  goingAway: ReadonlySet<string> = new Set(),
): Promise<BranchFacts> {
  const { branches, staleMarkers } = await readBranchFacts(repository, branch, goingAway);
  const found = branches.find((facts) => facts.branch === branch);
  if (found) return found;
  const marker = staleMarkers.find((stale) => stale.branch === branch)?.sha ?? null;
  return { branch, tip: null, marker, upstream: false, configured: false, checkedOut: false };
}

/** Removes markers whose branch is gone (compare-and-swap each). Call under the repository lock. */
export async function removeStaleMarkers(
  repository: Repository,
  stale: ReadonlyArray<{ branch: string; sha: string }>,
): Promise<void> {
  for (const { branch, sha } of stale) await updateRefs(repository, [`delete ${markerRef(branch)} ${sha}`]);
}

/**
 * Whether the branch may be deleted as far as ownership goes: it carries a marker (equal to
 * `expectedStart` when a lane record names that start), nothing of the user's points at it, and its
 * marker is still in its history. Resolves with the commits it holds beyond its start as well.
 */
export async function judgeOwnership(
  repository: Repository,
  facts: BranchFacts,
  expectedStart?: string,
): Promise<{ readonly kept: BranchKeptReason | null; readonly commitsBeyondStart: number }> {
  const reason = userClaim(facts, expectedStart);
  if (reason !== null || facts.tip === null || facts.marker === null) return { kept: reason, commitsBeyondStart: 0 };
  const counts = await gitOrThrow(
    ['rev-list', '--left-right', '--count', `${facts.marker}...${facts.tip}`],
    inRepository(repository),
  );
  const [behind = 0, ahead = 0] = counts.trim().split(/\s+/).map(Number);
  return { kept: behind > 0 ? 'history_changed' : null, commitsBeyondStart: ahead };
}

/** What a lane's cleanup does with its branch: `delete`, nothing (`absent`), or keep it and why. */
export type LaneBranchVerdict = 'delete' | 'absent' | BranchKeptReason;

/**
 * The decision a lane's cleanup makes about the branch it created at `start`, read only (a dry
 * run asks it too, with the lane's worktree in `goingAway`): its commits beyond `start` keep it
 * unless discarding; ownership keeps it always.
 */
export async function decideLaneBranch(
  repository: Repository,
  branch: string,
  start: string,
  discard: boolean,
  goingAway: ReadonlySet<string> = new Set(),
): Promise<{ readonly facts: BranchFacts; readonly verdict: LaneBranchVerdict; readonly commitsBeyondStart: number }> {
  const facts = await readOneBranch(repository, branch, goingAway);
  if (facts.tip === null) return { facts, verdict: 'absent', commitsBeyondStart: 0 };
  const { kept, commitsBeyondStart } = await judgeOwnership(repository, facts, start);
  const verdict = kept ?? (commitsBeyondStart > 0 && !discard ? 'commits' : 'delete');
  return { facts, verdict, commitsBeyondStart };
}

function userClaim(facts: BranchFacts, expectedStart: string | undefined): BranchKeptReason | null {
  if (facts.marker === null || (expectedStart !== undefined && facts.marker !== expectedStart)) return 'not_ours';
  if (facts.checkedOut) return 'checked_out';
  if (facts.upstream) return 'upstream';
  if (facts.configured) return 'configured';
  return null;
}

function factsOf(
  branch: string,
  tip: string,
  marker: string | null,
  upstream: boolean,
  config: readonly ConfigEntry[],
  checkedOut: ReadonlySet<string>,
): BranchFacts {
  const ref = `refs/heads/${branch}`;
  const section = `branch.${branch}.`;
  const configured = config.some(
    ({ key, value }) =>
      key.startsWith(section) ||
      value === branch ||
      value === ref ||
      // The pattern only when the name is there at all: 50 lanes' branches against every config entry.
      (value.includes(ref) && new RegExp(`(^|[\\s:+])${escapeRegExp(ref)}($|[\\s:])`).test(value)),
  );
  return { branch, tip, marker, upstream, configured, checkedOut: checkedOut.has(ref) };
}

interface ConfigEntry {
  readonly key: string;
  readonly value: string;
}

/** Every config entry git sees for the repository (all scopes, includes followed). */
async function readConfig(repository: Repository): Promise<ConfigEntry[]> {
  const result = await git(['config', '-z', '--list'], inRepository(repository));
  if (result.exitCode !== 0) throw gitError(['config', '--list'], result);
  return result.stdout
    .split('\0')
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const newline = entry.indexOf('\n');
      return newline < 0
        ? { key: entry, value: '' }
        : { key: entry.slice(0, newline), value: entry.slice(newline + 1) };
    });
}

function updateRefs(repository: Repository, commands: readonly string[]) {
  return git(['update-ref', '--stdin'], { ...inRepository(repository), input: `${commands.join('\n')}\n` });
}

/** git's refusal to create `ref` because it, or a ref below it, exists. */
function refBlocked(stderr: string, ref: string): boolean {
  return (
    stderr.includes(`cannot lock ref '${ref}': reference already exists`) ||
    new RegExp(`cannot lock ref '${escapeRegExp(ref)}': '${escapeRegExp(ref)}/[^']*' exists`).test(stderr)
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
