import { environVariable, isRunning, listPids, type ProcStat, readEnvironText, readProcStat } from './proc.js';

/** One process, as recorded when it was started: its pid and its start time. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
}

/**
 * What belongs to one process tree (a PTY's, an exec's): its leader (the leader of its own
 * session and process group, as forkpty and a detached spawn make it), every process of that
 * session, and every process carrying its tag variable (those that left the session with setsid).
 * A tree without a leader (a whole lane) is its tagged processes only.
 */
export interface ProcessTreeSelector {
  readonly leader?: ProcessIdentity;
  readonly tag: { readonly name: string; readonly value: string };
  /** Processes that are never members, whatever else matches: trees that are kept (adopted PTYs). */
  readonly spare?: SparedTrees;
}

/** Trees to leave alone: every process in one of `sessions`, or carrying `tagName` with one of `tags`. */
export interface SparedTrees {
  readonly tagName: string;
  readonly tags: ReadonlySet<string>;
  readonly sessions: ReadonlySet<number>;
}

/** A process found to belong to a tree, with its process group. */
export interface TreeMember extends ProcessIdentity {
  readonly pgid: number;
}

export type SignalOutcome = 'delivered' | 'not_found' | 'not_ours' | 'failed';

export interface SignalResult {
  readonly pid: number;
  readonly outcome: SignalOutcome;
  readonly error?: string;
}

/** Alive and the same process as recorded (not a zombie, not a reused pid). */
export function isSameProcessAlive(identity: ProcessIdentity): boolean {
  const stat = readProcStat(identity.pid);
  return isRunning(stat) && stat.startTime === identity.startTime;
}

/**
 * True when the leader's pid now names another process: its session and group ids can then be
 * someone else's, so only the tag may be trusted.
 */
function leaderPidReused(leader: ProcessIdentity): boolean {
  const stat = readProcStat(leader.pid);
  return stat !== undefined && stat.startTime !== leader.startTime;
}

/** One selector, or several scanned together (a reconciliation looks for many dead trees in one pass). */
export type ProcessTreeSelection = ProcessTreeSelector | readonly ProcessTreeSelector[];

export function selectorsOf(selection: ProcessTreeSelection): readonly ProcessTreeSelector[] {
  return Array.isArray(selection) ? selection : [selection as ProcessTreeSelector];
}

/**
 * The running processes of one or more trees (zombies count as dead), in one pass over /proc:
 * every process's stat, and its environment only when a tag must decide.
 */
export function scanProcessTree(selection: ProcessTreeSelection): TreeMember[] {
  const selectors = selectorsOf(selection).map((selector) => ({
    selector,
    trustSession: selector.leader !== undefined && !leaderPidReused(selector.leader),
  }));
  const members: TreeMember[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const stat = readProcStat(pid);
    if (!isRunning(stat)) continue;
    let environ: string | undefined;
    const tagOf = (name: string) => {
      environ ??= readEnvironText(pid);
      return environVariable(environ, name);
    };
    if (selectors.some(({ selector, trustSession }) => belongsToTree(stat, selector, trustSession, tagOf))) {
      members.push({ pid, startTime: stat.startTime, pgid: stat.pgid });
    }
  }
  return members;
}

/**
 * The values of `tagName` carried by stopped processes (state T: a SIGSTOP, a debugger holding
 * it), in one pass over /proc: every process's stat, and the environment of the stopped ones only
 * (almost never any), so a whole runtime's lanes are checked for the price of one scan.
 */
export function tagsOfStoppedProcesses(tagName: string): Set<string> {
  const tags = new Set<string>();
  for (const pid of listPids()) {
    if (pid === process.pid || readProcStat(pid)?.state !== 'T') continue;
    const value = environVariable(readEnvironText(pid), tagName);
    if (value !== undefined) tags.add(value);
  }
  return tags;
}

function belongsToTree(
  stat: ProcStat,
  selector: ProcessTreeSelector,
  trustSession: boolean,
  tagOf: (name: string) => string | undefined,
): boolean {
  const { leader, tag, spare } = selector;
  if (spare !== undefined && (spare.sessions.has(stat.sid) || spare.tags.has(tagOf(spare.tagName) ?? ''))) return false;
  if (leader !== undefined && stat.pid === leader.pid) return stat.startTime === leader.startTime;
  if (trustSession && stat.sid === leader?.pid) return true;
  return tagOf(tag.name) === tag.value;
}

/** Signals each process that is still the one recorded; a reused pid is reported `not_ours`, never signalled. */
export function signalProcesses(members: readonly ProcessIdentity[], signal: NodeJS.Signals): SignalResult[] {
  return members.map((member) => {
    const stat = readProcStat(member.pid);
    if (!isRunning(stat)) return { pid: member.pid, outcome: 'not_found' };
    if (stat.startTime !== member.startTime) return { pid: member.pid, outcome: 'not_ours' };
    return sendSignal(member.pid, signal);
  });
}

/** Signals the process group led by `leader` (pgid = leader pid), unless that pid now names another process. */
export function signalProcessGroup(leader: ProcessIdentity, signal: NodeJS.Signals): SignalResult {
  if (leaderPidReused(leader)) return { pid: -leader.pid, outcome: 'not_ours' };
  return sendSignal(-leader.pid, signal);
}

function sendSignal(target: number, signal: NodeJS.Signals): SignalResult {
  try {
    process.kill(target, signal);
    return { pid: target, outcome: 'delivered' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return { pid: target, outcome: 'not_found' };
    return { pid: target, outcome: 'failed', error: code ?? String(error) };
  }
}
