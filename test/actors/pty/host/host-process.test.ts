import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readEnviron, readProcStat } from '../../../../actors/process/proc.js';
import { HostBackend } from '../../../../actors/pty/host/host-client.js';
import { launchHost } from '../../../../actors/pty/host/host-launch.js';
import { ensureSocketDir, hostPathsOf } from '../../../../actors/pty/host/host-paths.js';
import { HOST_IDLE_EXIT_MS } from '../../../../actors/pty/host/host-protocol.js';
import type { EventEnvelope } from '../../../../bus/envelopes.js';
import { createBus } from '../../../../bus/local-bus.js';
import { createRuntime } from '../../../../supervision/runtime/runtime.js';
import type { Runtime } from '../../../../supervision/runtime/types.js';
import { createTempRepo, removeSocketsOf, type TempRepo } from '../../../support/git-repo.js';
import { isAlive, livePidsTagged } from '../../../support/proc-scan.js';
import { blockEventLoop, sleep, waitUntil } from '../../../support/wait.js';

let repo: TempRepo | undefined;
const runtimes: Runtime[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.shutdown({ cleanupLanes: true });
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  repo?.dispose();
  repo = undefined;
});

async function runtimeOnHost(events: EventEnvelope[] = []): Promise<Runtime> {
  repo ??= createTempRepo();
  const bus = createBus({ queueLimit: 1_000_000 });
  bus.subscribe('**', (event) => void events.push(event), { queueLimit: 1_000_000 });
  const rt = await createRuntime({ repo: repo.path, bus, pty: { host: 'process', terminateGraceMs: 500 } });
  runtimes.push(rt);
  return rt;
}

const parentOf = (pid: number) => readProcStat(pid)?.ppid;

/** Binds `socket` in another process, then kills it: the socket stays, and nothing answers on it. */
async function squatAndDie(socket: string): Promise<void> {
  rmSync(socket, { force: true });
  const squatter = spawn(
    process.execPath,
    ['-e', `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise((resolve) => squatter.stdout.once('data', resolve));
  squatter.kill('SIGKILL');
  await new Promise((resolve) => squatter.once('exit', resolve));
}

describe('the terminal host process', () => {
  it("runs in its own session, untagged, logs to the state directory, and is every PTY child's parent", async () => {
    const rt = await runtimeOnHost();
    const host = rt.ptyHost?.pid as number;
    expect(host).toBeGreaterThan(0);
    expect(host).not.toBe(process.pid);
    expect(readProcStat(host)?.sid).toBe(host);
    expect([...readEnviron(host).keys()].filter((name) => name.startsWith('LANEVISOR_'))).toEqual([]);
    const lane = await rt.createLane({ label: 'hosted' });
    const pty = await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-i'] });
    expect(parentOf(pty.pid)).toBe(host);
    expect(readFileSync(join(rt.stateDir, 'host.log'), 'utf8')).toContain(`host ${host}: listening on `);
  });

  it('is one per state directory, however many start it at once, and removes a stale socket only when nothing answers', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lanevisor-race-'));
    cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
    // A socket whose listener was killed: it is there, and nothing answers on it.
    const paths = hostPathsOf(stateDir);
    ensureSocketDir(paths.socketDir);
    await squatAndDie(paths.socket);
    expect(existsSync(paths.socket)).toBe(true);

    const backends = [1, 2, 3].map(
      (n) =>
        new HostBackend({
          stateDir,
          runtimeId: `rt_race${n}000000000000`,
          lingerMs: 0,
          graceMs: 200,
          outputBufferBytes: 1 << 20,
        }),
    );
    cleanups.push(async () => {
      for (const backend of backends) await backend.close();
    });
    await Promise.all(backends.map((backend) => backend.connect()));
    const pids = new Set(backends.map((backend) => backend.hostPid));
    expect(pids.size).toBe(1);
    const pid = backends[0]?.hostPid as number;
    await sleep(300);
    const log = readFileSync(paths.logFile, 'utf8');
    expect(log).toContain(`removing the stale socket ${paths.socket}`);
    // The others that were started found the winner answering and left.
    const hosts = log.split('\n').filter((line) => line.includes(': listening on '));
    expect(hosts).toEqual([expect.stringContaining(`host ${pid}: listening on`)]);
    expect(isAlive(pid)).toBe(true);
  });

  it('is one even when many hosts find the same stale socket at the same moment', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lanevisor-race-'));
    const paths = hostPathsOf(stateDir);
    const started: number[] = [];
    cleanups.push(() => {
      for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
      removeSocketsOf(stateDir);
    });
    ensureSocketDir(paths.socketDir);
    for (let round = 0; round < 5; round++) {
      rmSync(paths.logFile, { force: true });
      // Leave a stale socket: bound, then its listener gone without removing it.
      await squatAndDie(paths.socket);
      const hosts = Array.from({ length: 6 }, () => launchHost(stateDir, process.env));
      for (const host of hosts) started.push(host.pid as number);
      await waitUntil(
        () => hosts.filter((host) => isAlive(host.pid as number)).length <= 1,
        'the losers to leave',
        10_000,
      );
      const listening = readFileSync(paths.logFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes(': listening on '));
      expect(listening).toHaveLength(1);
      const winner = hosts.find((host) => isAlive(host.pid as number));
      expect(listening[0]).toContain(`host ${winner?.pid}: listening on`);
      winner?.kill('SIGKILL');
      await waitUntil(() => !isAlive(winner?.pid as number), 'the winner to die');
    }
  });

  it("gets a PTY's first output and its exit when they arrive in the same read as the reply to its start", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lanevisor-early-'));
    const backend = new HostBackend({
      stateDir,
      runtimeId: 'rt_early00000000000000',
      lingerMs: 0,
      graceMs: 200,
      outputBufferBytes: 1 << 20,
    });
    cleanups.push(async () => {
      await backend.close();
      rmSync(stateDir, { recursive: true, force: true });
    });
    await backend.connect();
    let text = '';
    let exited = false;
    const starting = backend.start(
      {
        ptyId: 'pty_early0000000000',
        spawn: {
          file: '/bin/sh',
          args: ['-c', 'echo early-bird'],
          cwd: stateDir,
          env: { PATH: process.env.PATH ?? '' },
          cols: 80,
          rows: 24,
        },
        tag: { name: 'LANEVISOR_TEST_EARLY', value: stateDir },
        maxPendingInputBytes: 1 << 20,
      },
      {
        data: (chunk) => {
          text += chunk;
        },
        exited: () => {
          exited = true;
        },
        treeGone: () => undefined,
        signaled: () => undefined,
        lost: () => undefined,
      },
    );
    // The start has gone out; meanwhile the host answers, the child prints and exits.
    setImmediate(() => blockEventLoop(300));
    await starting;
    await waitUntil(() => exited, 'the exit');
    expect(text).toContain('early-bird');
  });

  it('serves a repository whose path is longer than a Unix socket path may be', async () => {
    repo = createTempRepo();
    const deep = join(repo.base, 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60), 'repo');
    mkdirSync(dirname(deep), { recursive: true });
    renameSync(repo.path, deep);
    const rt = await createRuntime({ repo: deep, pty: { host: 'process', terminateGraceMs: 500 } });
    runtimes.push(rt);
    // A socket beside the state would not fit in sun_path (108 bytes with its terminator).
    expect(Buffer.byteLength(join(rt.stateDir, 'host.sock'))).toBeGreaterThan(108);
    expect(Buffer.byteLength(hostPathsOf(rt.stateDir).socket)).toBeLessThan(108);
    const lane = await rt.createLane({ label: 'deep' });
    const pty = await lane.spawnPty({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', 'echo deep-$((6 * 7)); exec sleep 60'],
    });
    await waitUntil(() => pty.scrollback().includes('deep-42'), 'the hosted PTY to answer');
    expect(parentOf(pty.pid)).toBe(rt.ptyHost?.pid);
  });

  it('exits once it has served no runtime and held no terminal for a while, and when its state directory is gone', async () => {
    const rt = await runtimeOnHost();
    const host = rt.ptyHost?.pid as number;
    await rt.shutdown();
    runtimes.splice(0);
    await waitUntil(() => !isAlive(host), 'the idle host to exit', HOST_IDLE_EXIT_MS + 3_000);
    // Nothing of it is left in the socket directory either.
    expect(existsSync(hostPathsOf(rt.stateDir).socket)).toBe(false);

    const again = await runtimeOnHost();
    const second = again.ptyHost?.pid as number;
    expect(second).not.toBe(host);
    await again.shutdown();
    runtimes.splice(0);
    repo?.dispose();
    repo = undefined;
    await waitUntil(() => !isAlive(second), 'the host to notice its state directory is gone', 3_000);
  });

  it('when it dies, its PTYs end errored: a permanent one comes back on a new host, a temporary one does not, what survived it is stopped', async () => {
    const events: EventEnvelope[] = [];
    const rt = await runtimeOnHost(events);
    const lane = await rt.createLane({ label: 'hostloss' });
    const permanent = await lane.spawnPty({
      command: 'bash',
      args: ['--norc', '--noprofile', '-i'],
      restart: 'permanent',
    });
    const temporary = await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-i'] });
    const stubborn = await lane.spawnPty({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', "trap '' HUP TERM; echo started; while :; do sleep 0.1; done"],
    });
    const other = await rt.createLane({ label: 'untouched' });
    const oldHost = rt.ptyHost?.pid as number;
    const [oldPermanentPid, stubbornPid] = [permanent.pid, stubborn.pid];

    process.kill(oldHost, 'SIGKILL');
    await waitUntil(
      () => permanent.restarts === 1 && permanent.state === 'active',
      'the permanent PTY to come back',
      15_000,
    );
    expect(permanent.pid).not.toBe(oldPermanentPid);
    const newHost = rt.ptyHost?.pid as number;
    expect(newHost).not.toBe(oldHost);
    expect(parentOf(permanent.pid)).toBe(newHost);
    await waitUntil(() => temporary.state === 'errored', 'the temporary PTY to end errored');
    await waitUntil(() => !isAlive(stubbornPid), 'the TERM-ignoring child to be stopped', 10_000);
    expect(stubborn.state).toBe('errored');
    expect(other.state).toBe('ready');
    const lost = events.find((e) => e.topic === 'runtime.pty_host_lost')?.payload as {
      pid: number;
      lostPtys: string[];
    };
    expect(lost.pid).toBe(oldHost);
    expect([...lost.lostPtys].sort()).toEqual([permanent.id, temporary.id, stubborn.id].sort());
    expect(
      events.filter((e) => e.topic === 'runtime.pty_host_started').map((e) => (e.payload as { pid: number }).pid),
    ).toEqual([oldHost, newHost]);
    permanent.write('echo still here\r');
    let seen = '';
    permanent.onData((chunk) => {
      seen += chunk;
    });
    await waitUntil(() => seen.includes('still here'), 'the restarted PTY to answer');
  }, 60_000);

  it('a PTY spawned while its host dies comes up on a new host, and nothing the dead one started is left', async () => {
    const rt = await runtimeOnHost();
    const lane = await rt.createLane({ label: 'midstart' });
    const oldHost = rt.ptyHost?.pid as number;
    // The runtime has not heard of the death yet when the start goes out.
    process.kill(oldHost, 'SIGKILL');
    const pty = await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-i'] });
    expect(pty.state).toBe('active');
    const newHost = rt.ptyHost?.pid as number;
    expect(newHost).not.toBe(oldHost);
    expect(parentOf(pty.pid)).toBe(newHost);
    expect(livePidsTagged('LANEVISOR_PTY_ID', pty.id)).toEqual([pty.pid]);
  });
});
