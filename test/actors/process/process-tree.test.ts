import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  environVariable,
  isRunning,
  listPids,
  parseProcStat,
  readEnviron,
  readEnvironText,
  readEnvironVariable,
  readProcStat,
} from '../../../actors/process/proc.js';
import {
  isSameProcessAlive,
  scanProcessTree,
  signalProcesses,
  signalProcessGroup,
} from '../../../actors/process/process-tree.js';
import { resolveExecutable } from '../../../actors/process/resolve-executable.js';
import { isAlive } from '../../support/proc-scan.js';
import { waitUntil } from '../../support/wait.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** A real process in its own session (setsid), optionally tagged, standing for a PTY's child. */
function startSession(env: Record<string, string> = {}): ChildProcess {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

describe('/proc reading', () => {
  it('parses a stat line whose command holds spaces and parentheses', () => {
    const stat = parseProcStat(
      '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 123456 1000 25 ...',
    );
    expect(stat).toMatchObject({
      pid: 4242,
      comm: 'my (odd) name',
      state: 'S',
      ppid: 1,
      pgid: 4242,
      sid: 4242,
      cpuTicks: 10,
      childCpuTicks: 3,
      startTime: 123456,
      rssPages: 25,
    });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads live processes, and nothing for a missing pid', () => {
    const self = readProcStat(process.pid);
    expect(self?.pid).toBe(process.pid);
    expect(isRunning(self)).toBe(true);
    expect(readProcStat(2 ** 30)).toBeUndefined();
    expect(listPids()).toContain(process.pid);
    expect(readEnvironVariable(process.pid, 'PATH')).toBe(process.env.PATH);
    expect(readEnvironVariable(2 ** 30, 'PATH')).toBeUndefined();
  });

  it('finds one variable in an environ text as the whole environment reads it', () => {
    const text = 'AX=no\0X=first\0Y=a X=b\0X=second\0EMPTY=\0EQ=a=b';
    expect(environVariable(text, 'X')).toBe('first');
    expect(environVariable(text, 'Y')).toBe('a X=b');
    expect(environVariable(text, 'EMPTY')).toBe('');
    expect(environVariable(text, 'EQ')).toBe('a=b');
    expect(environVariable(text, 'A')).toBeUndefined();
    expect(environVariable('', 'X')).toBeUndefined();
    // A live process: every variable agrees with the parsed environment.
    const own = readEnvironText(process.pid);
    for (const [name, value] of readEnviron(process.pid)) expect(environVariable(own, name)).toBe(value);
  });
});

describe('finding and signalling the processes of a PTY', () => {
  it('finds the leader, its session and tagged escapees, and never an unrelated process', async () => {
    const leader = startSession({ LANEVISOR_PTY_ID: 'pty_test0000000000a' });
    const escapee = startSession({ LANEVISOR_PTY_ID: 'pty_test0000000000a' });
    const unrelated = startSession({ LANEVISOR_PTY_ID: 'pty_other000000000b' });
    const untagged = startSession();
    await waitUntil(
      () => [leader, escapee, unrelated, untagged].every((c) => readProcStat(c.pid as number)?.sid === c.pid),
      'sessions',
    );
    const startTime = readProcStat(leader.pid as number)?.startTime as number;
    const members = scanProcessTree({
      leader: { pid: leader.pid as number, startTime },
      tag: { name: 'LANEVISOR_PTY_ID', value: 'pty_test0000000000a' },
    });
    expect(members.map((m) => m.pid).sort()).toEqual([leader.pid, escapee.pid].sort());
  });

  it('never signals a pid whose start time differs from the record (a reused pid)', async () => {
    const victim = startSession();
    await waitUntil(() => readProcStat(victim.pid as number)?.sid === victim.pid, 'session');
    const real = readProcStat(victim.pid as number)?.startTime as number;
    const stale = { pid: victim.pid as number, startTime: real - 1 };
    expect(signalProcesses([stale], 'SIGKILL')).toEqual([{ pid: victim.pid, outcome: 'not_ours' }]);
    expect(signalProcessGroup(stale, 'SIGKILL')).toEqual({ pid: -(victim.pid as number), outcome: 'not_ours' });
    expect(isSameProcessAlive(stale)).toBe(false);
    // Session matching is not trusted either once the leader's pid names another process.
    expect(scanProcessTree({ leader: stale, tag: { name: 'LANEVISOR_PTY_ID', value: 'pty_nobody00000000c' } })).toEqual(
      [],
    );
    expect(isAlive(victim.pid as number)).toBe(true);
    // With the right record, it is signalled.
    expect(signalProcesses([{ pid: victim.pid as number, startTime: real }], 'SIGKILL')[0]?.outcome).toBe('delivered');
    await waitUntil(() => !isAlive(victim.pid as number), 'the victim to die');
  });

  it('reports a process that is already gone as not_found', () => {
    expect(signalProcesses([{ pid: 2 ** 30, startTime: 1 }], 'SIGTERM')).toEqual([
      { pid: 2 ** 30, outcome: 'not_found' },
    ]);
    expect(signalProcessGroup({ pid: 2 ** 22 - 1, startTime: 1 }, 'SIGTERM').outcome).toBe('not_found');
  });
});

describe('resolving an executable', () => {
  it('looks a bare name up in PATH, takes a path with a slash as it is, and rejects what cannot run', () => {
    expect(resolveExecutable('sh', '/', '/nonexistent:/usr/bin:/bin')).toMatch(/\/sh$/);
    expect(resolveExecutable('/bin/sh', '/tmp', undefined)).toBe('/bin/sh');
    expect(resolveExecutable('./sh', '/bin', undefined)).toBe('/bin/sh');
    expect(resolveExecutable('nope-not-here', '/', '/usr/bin:/bin')).toBeUndefined();
    expect(resolveExecutable('sh', '/', undefined)).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'lanevisor-exe-'));
    try {
      writeFileSync(join(dir, 'plain'), 'echo hi\n', { mode: 0o644 });
      expect(resolveExecutable('plain', '/', dir)).toBeUndefined(); // not executable
      expect(resolveExecutable(dir, '/', undefined)).toBeUndefined(); // a directory
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
