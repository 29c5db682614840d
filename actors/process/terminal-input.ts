import { readdirSync, readlinkSync } from 'node:fs';
import { type ProcStat, readProcStat, readProcText } from './proc.js';

/**
 * Whether the program in the foreground of a terminal is blocked waiting for the terminal's
 * input (a `read` prompt, a pager, an editor, a REPL), read from /proc: the terminal's foreground
 * process group (`tpgid` of the PTY's leader), its members among the leader's descendants, each
 * one's current system call (`/proc/<pid>/syscall`), and what it waits on. A read of the terminal, or an epoll set that
 * holds the terminal, is certain; poll and select are taken as waiting on the terminal when the
 * process holds it open (their fd sets are in the process's memory, not in /proc).
 */
const SYSCALLS: Readonly<Record<string, { read: number[]; epoll: number[]; poll: number[] }>> = {
  // read, readv, pread64 | epoll_wait, epoll_pwait, epoll_pwait2 | poll, select, pselect6, ppoll
  x64: { read: [0, 19, 17], epoll: [232, 281, 441], poll: [7, 23, 270, 271] },
  // read, readv, pread64 | epoll_pwait, epoll_pwait2 | pselect6, ppoll
  arm64: { read: [63, 65, 67], epoll: [22, 441], poll: [72, 73] },
};

/** Processes of one terminal looked at, at most (breadth first): a pipeline, not a whole build. */
const MAX_TREE = 64;

type SyscallTable = (typeof SYSCALLS)[string] & object;

/** What one look at a terminal's processes tells. */
export interface TerminalActivity {
  /** The foreground program is blocked waiting for the terminal's input; undefined when it cannot be told. */
  readonly waitingForInput: boolean | undefined;
  /** CPU time of the processes looked at and of their children that ended, in clock ticks. */
  readonly cpuTicks: number;
}

/** One walk over the PTY leader's process tree: whether its foreground waits on the terminal, and its CPU time. */
export function readTerminalActivity(leaderPid: number): TerminalActivity {
  const tree = processTree(leaderPid);
  const cpuTicks = tree.reduce((sum, stat) => sum + stat.cpuTicks + stat.childCpuTicks, 0);
  return { waitingForInput: foregroundWaits(leaderPid, tree), cpuTicks };
}

/** true / false; undefined when it cannot be told (gone, not Linux's layout, not readable). */
export function waitsForTerminalInput(leaderPid: number): boolean | undefined {
  return foregroundWaits(leaderPid, processTree(leaderPid));
}

function foregroundWaits(leaderPid: number, tree: readonly ProcStat[]): boolean | undefined {
  const calls = SYSCALLS[process.arch];
  const leader = tree[0];
  const terminal = terminalOf(leaderPid);
  if (calls === undefined || leader?.pid !== leaderPid || terminal === undefined || leader.tpgid <= 0) return undefined;
  const members = tree.filter((stat) => stat.pgid === leader.tpgid);
  // Something in the foreground is on a CPU: it is working, whatever the others wait for.
  if (members.some((member) => member.state === 'R')) return false;
  return members.some((member) => member.state === 'S' && waitsOnTerminal(member.pid, terminal, calls));
}

function waitsOnTerminal(pid: number, terminal: string, calls: SyscallTable): boolean {
  const syscall = readSyscall(pid);
  if (syscall === undefined) return false;
  const [number, firstArgument] = syscall;
  if (calls.read.includes(number)) return fdTarget(pid, firstArgument) === terminal;
  if (calls.epoll.includes(number)) return epollWatches(pid, firstArgument, terminal);
  if (calls.poll.includes(number)) return openFds(pid).some((fd) => fdTarget(pid, fd) === terminal);
  return false;
}

/** The leader and its descendants, breadth first, at most MAX_TREE of them (the leader first). */
function processTree(leaderPid: number): ProcStat[] {
  const tree: ProcStat[] = [];
  const queue = [leaderPid];
  while (queue.length > 0 && tree.length < MAX_TREE) {
    const pid = queue.shift() as number;
    const stat = readProcStat(pid);
    if (stat === undefined) continue;
    tree.push(stat);
    queue.push(...childrenOf(pid));
  }
  return tree;
}

function childrenOf(pid: number): number[] {
  try {
    return readProcText(`/proc/${pid}/task/${pid}/children`).split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The terminal a PTY's leader has as stdin (`/dev/pts/N`). */
function terminalOf(pid: number): string | undefined {
  const target = fdTarget(pid, 0);
  return target?.startsWith('/dev/pts/') ? target : undefined;
}

function readSyscall(pid: number): [number, number] | undefined {
  let text: string;
  try {
    text = readProcText(`/proc/${pid}/syscall`).trim();
  } catch {
    return undefined;
  }
  // "running" while on a CPU; otherwise "<nr> <arg0> … <sp> <pc>".
  const [number, argument] = text.split(' ');
  if (number === undefined || argument === undefined || !/^\d+$/.test(number)) return undefined;
  return [Number(number), Number.parseInt(argument, 16)];
}

function fdTarget(pid: number, fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}

function openFds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map(Number);
  } catch {
    return [];
  }
}

/** Whether the epoll instance at `epollFd` watches a descriptor of `terminal` (fdinfo's `tfd:` lines). */
function epollWatches(pid: number, epollFd: number, terminal: string): boolean {
  let info: string;
  try {
    info = readProcText(`/proc/${pid}/fdinfo/${epollFd}`);
  } catch {
    return false;
  }
  for (const match of info.matchAll(/^tfd:\s+(\d+)/gm)) {
    if (fdTarget(pid, Number(match[1])) === terminal) return true;
  }
  return false;
}
