import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACK_DELAY_MS } from '../../../actors/pty/host/host-session.js';
import { SCREEN_PERSIST_MS } from '../../../actors/pty/host/screen-keeper.js';
import type { EventEnvelope } from '../../../bus/envelopes.js';
import { createBus } from '../../../bus/local-bus.js';
import type { Pty } from '../../../supervision/pty/types.js';
import { createRuntime } from '../../../supervision/runtime/runtime.js';
import type { Runtime } from '../../../supervision/runtime/types.js';
import { CrashRun } from '../../support/crash-harness.js';
import { createTempRepo, gitIn, type TempRepo } from '../../support/git-repo.js';
import { isAlive, livePidsTagged } from '../../support/proc-scan.js';
import { sleep, waitUntil } from '../../support/wait.js';

/**
 * The terminal host keeps a dead runtime's terminals: the next runtime takes them over with the
 * output printed meanwhile, or, when none comes within lingerMs, the host ends them. These tests
 * are about the host, so they ask for it whatever the project's default.
 */
let repo: TempRepo;
const runtimes: Runtime[] = [];
const crashes: CrashRun[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.shutdown({ cleanupLanes: true });
  for (const crash of crashes.splice(0)) await crash.kill();
  repo?.dispose();
});

const ON_HOST = { pty: { host: 'process' as const, lingerMs: 60_000, terminateGraceMs: 500 } };

async function start(events: EventEnvelope[] = [], options: object = ON_HOST): Promise<Runtime> {
  const bus = createBus({ queueLimit: 1_000_000 });
  bus.subscribe('**', (event) => void events.push(event), { queueLimit: 1_000_000 });
  const runtime = await createRuntime({ repo: repo.path, bus, ...options });
  runtimes.push(runtime);
  return runtime;
}

/** The numbers of `line N` in order, from an adopted PTY's output (its first pulls). */
async function linesFrom(pty: Pty, atLeast: number): Promise<number[]> {
  const numbers: number[] = [];
  let text = '';
  for await (const chunk of pty.output()) {
    text += chunk;
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    text = text.slice(complete.length);
    for (const match of complete.matchAll(/^line (\d+)\r?$/gm)) numbers.push(Number(match[1]));
    if (numbers.length >= atLeast) break;
  }
  return numbers;
}

describe('re-adoption of terminals after the orchestrator died', () => {
  it('a SIGKILLed runtime leaves its PTYs running; the next one takes them over, with every line printed meanwhile, once and in order', async () => {
    repo = createTempRepo();
    const crash = new CrashRun(
      repo.path,
      [
        { type: 'create', label: 'busy' },
        { type: 'pty', label: 'busy', kind: 'count', restart: 'permanent' },
        { type: 'pty', label: 'busy', kind: 'trap' },
      ],
      ON_HOST,
    );
    crashes.push(crash);
    const [counter, stubborn] = [
      (await crash.opDone(1)) as { ptyId: string; pid: number },
      (await crash.opDone(2)) as { ptyId: string; pid: number },
    ];
    // Long enough for the dying runtime to have acknowledged some of the output (after ACK_DELAY_MS).
    await sleep(ACK_DELAY_MS * 10);
    await crash.kill();
    await sleep(2_000);
    expect(isAlive(counter.pid)).toBe(true);
    expect(isAlive(stubborn.pid)).toBe(true);

    const events: EventEnvelope[] = [];
    const next = await start(events);
    expect(next.reconciliation.ptys).toEqual({ lost: 0, adopted: 2 });
    expect(next.reconciliation.processes.killed).toBe(0);
    const [lane] = next.lanes();
    const resumed = events.find((e) => e.topic === 'lane.resumed')?.payload as {
      adoptedPtys: string[];
      lostPtys: string[];
    };
    expect([...resumed.adoptedPtys].sort()).toEqual([counter.ptyId, stubborn.ptyId].sort());
    expect(resumed.lostPtys).toEqual([]);
    const adopted = lane?.ptys().find((pty) => pty.id === counter.ptyId) as Pty;
    expect(adopted).toMatchObject({ pid: counter.pid, state: 'active', restart: 'permanent' });
    expect(lane?.ptys().find((pty) => pty.id === stubborn.ptyId)).toMatchObject({ pid: stubborn.pid, state: 'active' });

    // What it printed while no runtime read: more than the two seconds' worth, no gap, no repeat.
    const numbers = await linesFrom(adopted, 150);
    expect(numbers.length).toBeGreaterThanOrEqual(150);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => (numbers[0] as number) + i));
    // output() reads the retained bytes at once; the bus gets them in batches, a little later.
    const firstBatchOf = () =>
      events.find((e) => e.topic === 'pty.output' && (e.payload as { ptyId: string }).ptyId === counter.ptyId);
    await waitUntil(() => firstBatchOf() !== undefined, "the counter's first pty.output event");
    const firstBatch = firstBatchOf();
    expect((firstBatch?.payload as { offset: number } | undefined)?.offset).toBeGreaterThan(0);

    // It is driven as any other: input, resize, signals, and a cleanup that leaves nothing.
    adopted.resize(100, 40);
    expect(adopted.cols).toBe(100);
    await lane?.cleanup();
    expect(isAlive(counter.pid)).toBe(false);
    expect(isAlive(stubborn.pid)).toBe(false);
    expect(gitIn(repo.path, 'branch', '--list', 'lane/*')).toBe('');
  }, 60_000);

  it('shutdown({ keepPtys: true }) leaves the PTYs running for the next runtime, which writes to them as before', async () => {
    repo = createTempRepo();
    const first = await start();
    const lane = await first.createLane({ label: 'kept' });
    const shell = await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-i'], env: { PS1: '$ ' } });
    const pid = shell.pid;
    shell.resize(120, 30);
    await first.shutdown({ keepPtys: true });
    runtimes.splice(runtimes.indexOf(first), 1);
    expect(isAlive(pid)).toBe(true);

    const next = await start();
    const [again] = next.lanes()[0]?.ptys() ?? [];
    expect(again).toMatchObject({ id: shell.id, pid, state: 'active', cols: 120, rows: 30 });
    let seen = '';
    again?.onData((chunk) => {
      seen += chunk;
    });
    again?.write('echo "adopted $((6 * 7))"\r');
    await waitUntil(() => seen.includes('adopted 42'), 'the adopted shell to answer');
    expect(await again?.terminate({ graceMs: 500 })).toMatchObject({ escalated: false });
  });

  it("a lane re-adopted after a SIGKILL keeps lanevisor.json's port (its adopted shell says the same); a new lane gets another", async () => {
    repo = createTempRepo();
    writeFileSync(join(repo.path, 'lanevisor.json'), JSON.stringify({ ports: { base: 43_300 } }));
    const crash = new CrashRun(
      repo.path,
      [
        { type: 'create', label: 'gone' },
        { type: 'create', label: 'kept' },
        { type: 'pty', label: 'kept', kind: 'plain' },
        // Frees the lowest port: a runtime handing ports out afresh would give it to `kept`.
        { type: 'cleanup', label: 'gone' },
      ],
      ON_HOST,
    );
    crashes.push(crash);
    const kept = (await crash.opDone(1)) as { laneId: string };
    const shell = (await crash.opDone(2)) as { ptyId: string; pid: number };
    await crash.opDone(3);
    await crash.kill();

    const next = await start();
    const lane = next.getLane(kept.laneId);
    expect(lane?.port).toBe(43_301);
    const adopted = lane?.ptys().find((pty) => pty.id === shell.ptyId) as Pty;
    expect(adopted).toMatchObject({ pid: shell.pid, state: 'active' });
    let seen = '';
    adopted.onData((chunk) => {
      seen += chunk;
    });
    adopted.write('echo "port=$LANEVISOR_PORT."\r');
    await waitUntil(() => seen.includes('port=43301.'), 'the adopted shell to say its port');
    expect((await next.createLane({ label: 'fresh' })).port).toBe(43_300);
  }, 60_000);

  it('with no runtime within lingerMs, the host ends the PTYs, whole trees, and then exits', async () => {
    repo = createTempRepo();
    const crash = new CrashRun(
      repo.path,
      [
        { type: 'create', label: 'short' },
        { type: 'pty', label: 'short', kind: 'trap' },
        { type: 'pty', label: 'short', kind: 'bg' },
      ],
      { pty: { host: 'process', lingerMs: 1_000, terminateGraceMs: 500 } },
    );
    crashes.push(crash);
    const runtimeId = await crash.runtimeId();
    await crash.opDone(2);
    const host = Number(
      /host (\d+): listening/.exec(readFileSync(join(repo.path, '.git', 'lanevisor', 'host.log'), 'utf8'))?.[1],
    );
    const pids = livePidsTagged('LANEVISOR_RUNTIME_ID', runtimeId);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    await crash.kill();
    await waitUntil(
      () => pids.every((pid) => !isAlive(pid)),
      'every process of those PTYs to be gone',
      1_000 + 500 + 2_000,
    );
    await waitUntil(() => !isAlive(host), 'the host to exit', 8_000);
  }, 60_000);

  it('after a reboot (host and runtime gone), a permanent PTY starts again under its id with its old screen above; a temporary one is lost', async () => {
    repo = createTempRepo();
    const crash = new CrashRun(
      repo.path,
      [
        { type: 'create', label: 'reboot' },
        { type: 'pty', label: 'reboot', kind: 'count', restart: 'permanent' },
        { type: 'pty', label: 'reboot', kind: 'trap' },
      ],
      ON_HOST,
    );
    crashes.push(crash);
    const kept = (await crash.opDone(1)) as { ptyId: string; pid: number };
    const lost = (await crash.opDone(2)) as { ptyId: string };
    const screens = join(repo.path, '.git', 'lanevisor', 'screens');
    await waitUntil(
      () => existsSync(join(screens, `${kept.ptyId}.ansi`)),
      'the host to keep the screen',
      SCREEN_PERSIST_MS + 3_000,
    );
    const host = Number(
      /host (\d+): listening/.exec(readFileSync(join(repo.path, '.git', 'lanevisor', 'host.log'), 'utf8'))?.[1],
    );
    // What a power cut does to both.
    process.kill(host, 'SIGKILL');
    await crash.kill();
    await waitUntil(() => !isAlive(kept.pid), 'the PTY to end with its host');

    const events: EventEnvelope[] = [];
    const next = await start(events);
    const resumed = events.find((e) => e.topic === 'lane.resumed')?.payload as Record<string, string[]>;
    expect(resumed).toMatchObject({ revivedPtys: [kept.ptyId], adoptedPtys: [], lostPtys: [lost.ptyId] });
    const pty = next
      .lanes()[0]
      ?.ptys()
      .find((p) => p.id === kept.ptyId) as Pty;
    expect(pty).toMatchObject({ state: 'active', restart: 'permanent' });
    expect(pty.pid).not.toBe(kept.pid);
    const history = pty.scrollback();
    expect(history).toMatch(/line \d+/);
    expect(history).toContain('[lanevisor: history restored; the program was started again]');
    // Its screen shows the old lines above the marker, and the new program's below.
    await waitUntil(
      () => pty.scrollback().split('history restored')[1]?.includes('started') === true,
      'the new output',
    );
    const screen = await pty.snapshot();
    expect(screen.indexOf('history restored')).toBeGreaterThan(screen.indexOf('line '));
    expect(existsSync(join(screens, `${lost.ptyId}.ansi`))).toBe(false);
  }, 60_000);
});
