import { closeSync, constants, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

/**
 * Reading Linux's /proc: what a process is (state, group, session, start time) and which
 * lanevisor tag variables it carries. Start times identify a process across pid reuse: a pid whose
 * start time differs from the one recorded is another process and is never signalled.
 */
export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  /** One letter: R, S, D, Z (zombie), T, … */
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  /** The foreground process group of the process's controlling terminal (-1 without one). */
  readonly tpgid: number;
  /** Clock ticks since boot (field 22): with the pid, identifies one process. */
  readonly startTime: number;
  /** User plus system CPU time, in clock ticks. */
  readonly cpuTicks: number;
  /** The same for its children that ended and were waited for. */
  readonly childCpuTicks: number;
  /** Resident set size in pages. */
  readonly rssPages: number;
}

const PROC = '/proc';

/**
 * Most /proc files a look at a process reads (stat, syscall, a children list) are under a few
 * hundred bytes. Read into one buffer they cost about 60 % of readFileSync's time (7.5 against
 * 11-12 µs for a stat, measured): no fstat, no buffer per read. The activity clock reads several
 * on every look at a quiet PTY, so this is most of what a look costs.
 */
const SMALL_PROC_FILE_BYTES = 4096;
const smallFileBuffer = Buffer.allocUnsafe(SMALL_PROC_FILE_BYTES);

/**
 * A /proc file's text; throws as readFileSync does (gone, not readable). Read until a read
 * returns nothing: a file made one record at a time (a children list) stops a read short of the
 * buffer where the next record does not fit, not at its end. One that fills the buffer is read
 * again whole.
 */
export function readProcText(path: string): string {
  const fd = openSync(path, constants.O_RDONLY);
  let length = 0;
  try {
    for (;;) {
      const read = readSync(fd, smallFileBuffer, length, SMALL_PROC_FILE_BYTES - length, null);
      if (read === 0) return smallFileBuffer.toString('latin1', 0, length);
      length += read;
      if (length === SMALL_PROC_FILE_BYTES) break;
    }
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'latin1');
}

/** undefined when the process does not exist (or vanished while being read). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readProcText(`${PROC}/${pid}/stat`);
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // Fields after the name start at field 3 (state).
  const rest = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(rest[n - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    tpgid: field(8),
    cpuTicks: field(14) + field(15),
    childCpuTicks: field(16) + field(17),
    startTime: field(22),
    rssPages: field(24),
  };
}

/** A process that exists and is not a zombie (zombies count as dead). */
export function isRunning(stat: ProcStat | undefined): stat is ProcStat {
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(PROC)) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** The value of one environment variable of a process, or undefined (absent, gone, or not readable). */
export function readEnvironVariable(pid: number, name: string): string | undefined {
  return environVariable(readEnvironText(pid), name);
}

/** A process's /proc/<pid>/environ as it is (NUL-separated), '' when gone or not readable. */
export function readEnvironText(pid: number): string {
  try {
    return readFileSync(`${PROC}/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

/**
 * One variable of an environ text, found without splitting the rest (a scan of every process
 * asks each for one or two names); the first entry of that name wins, as in readEnviron.
 */
export function environVariable(environ: string, name: string): string | undefined {
  const key = `${name}=`;
  for (let at = environ.indexOf(key); at >= 0; at = environ.indexOf(key, at + 1)) {
    if (at > 0 && environ[at - 1] !== '\0') continue;
    const end = environ.indexOf('\0', at);
    return environ.slice(at + key.length, end < 0 ? undefined : end);
  }
  return undefined;
}

/** A process's environment as it was at exec (empty when gone or not readable). */
export function readEnviron(pid: number): Map<string, string> {
  const variables = new Map<string, string>();
  for (const entry of readEnvironText(pid).split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0 && !variables.has(entry.slice(0, equals)))
      variables.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return variables;
}
