import { readFileSync, realpathSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isLanevisorError, type LanevisorError } from '../../../bus/errors.js';
import { LIFECYCLE_PAYLOAD_SCHEMAS } from '../../../bus/lifecycle.js';
import { eventEnvelopeSchema } from '../../../bus/schemas.js';
import { BASH, createPtyFixture, recordOutput } from '../../support/pty-fixture.js';
import { settle, waitUntil } from '../../support/wait.js';

let fixture: ReturnType<typeof createPtyFixture>;
afterEach(async () => {
  await fixture?.dispose();
});

function errorOf(fn: () => unknown): LanevisorError {
  try {
    fn();
  } catch (error) {
    if (isLanevisorError(error)) return error;
    throw error;
  }
  throw new Error('expected a LanevisorError');
}

describe('a PTY is a real terminal', () => {
  it('echoes input through a real shell and publishes its life on the bus in order', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    expect(pty).toMatchObject({ state: 'active', cols: 80, rows: 24, laneId: fixture.laneId, restarts: 0 });
    const out = recordOutput(pty);
    pty.write('echo round-$((40 + 2))-trip\r');
    await out.waitFor('round-42-trip');
    await pty.terminate({ graceMs: 1_000 });
    await settle();
    const lifecycle = fixture.events
      .filter((e) => ['pty.spawned', 'pty.state_changed', 'pty.stopped'].includes(e.topic))
      .map((e) =>
        e.topic === 'pty.state_changed'
          ? `${(e.payload as { from: string }).from}>${(e.payload as { to: string }).to}`
          : e.topic,
      );
    expect(lifecycle).toEqual(['idle>spawning', 'pty.spawned', 'spawning>active', 'active>stopped', 'pty.stopped']);
    for (const event of fixture.events) {
      eventEnvelopeSchema.parse(event);
      const schema = LIFECYCLE_PAYLOAD_SCHEMAS[event.topic as keyof typeof LIFECYCLE_PAYLOAD_SCHEMAS];
      schema.parse(event.payload);
    }
    expect(new Set(fixture.events.map((e) => e.correlationId)).size).toBe(1);
  });

  it('gives the child a tty of the requested size, in the lane directory, with the tag variables', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({ ...BASH, cols: 123, rows: 45, env: { ...BASH.env, MY_VAR: 'mine' } });
    const out = recordOutput(pty);
    pty.write('tty; stty size; pwd; echo "$MY_VAR/$LANEVISOR_LANE_ID/$LANEVISOR_PTY_ID/$LANEVISOR_RUNTIME_ID/$TERM"\r');
    await out.waitFor(/xterm-256color/);
    expect(out.text).toMatch(/\/dev\/pts\/\d+/);
    expect(out.text).toContain('45 123');
    expect(out.text).toContain(realpathSync(fixture.cwd));
    expect(out.text).toContain(`mine/${fixture.laneId}/${pty.id}/${fixture.runtimeId}/xterm-256color`);
    // The real child is the shell itself, not a helper.
    expect(readFileSync(`/proc/${pty.pid}/comm`, 'utf8').trim()).toBe('bash');
  });

  it('tag variables cannot be overridden by the caller', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({ ...BASH, env: { PS1: '$ ', LANEVISOR_PTY_ID: 'forged' } });
    const out = recordOutput(pty);
    pty.write('echo "id=$LANEVISOR_PTY_ID"\r');
    await out.waitFor(`id=${pty.id}`);
  });

  it('reports the new size to `stty size` after resize', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    const out = recordOutput(pty);
    pty.resize(100, 30);
    expect(pty).toMatchObject({ cols: 100, rows: 30 });
    pty.write('stty size\r');
    await out.waitFor(/\r30 100\r\n/);
    await settle();
    expect(fixture.eventsOf('pty.resized', pty).map((e) => e.payload)).toEqual([
      { laneId: fixture.laneId, ptyId: pty.id, cols: 100, rows: 30 },
    ]);
  });

  it('delivers SIGWINCH to the child on resize', async () => {
    fixture = createPtyFixture();
    // Not an interactive shell: readline defers traps and may discard typeahead around them. The
    // trap only sets a flag: bash can drop a signal that arrives while a trap of it still runs
    // (seen once under load with `echo "$(stty size)"` in the trap), and the loop prints the size.
    const script =
      'trap \'w=1\' WINCH; echo armed; while :; do if [ -n "$w" ]; then w=; echo "WINCH-$(stty size)"; fi; sleep 0.02; done';
    const pty = await fixture.spawn({ command: 'bash', args: ['--norc', '--noprofile', '-c', script] });
    const out = recordOutput(pty);
    await out.waitFor('armed');
    pty.resize(132, 43);
    await out.waitFor('WINCH-43 132');
    pty.resize(90, 20);
    await out.waitFor('WINCH-20 90');
  });

  it('rejects bad sizes with INVALID_ARGUMENT and leaves the size alone', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    for (const [cols, rows] of [
      [0, 24],
      [-1, 24],
      [Number.NaN, 24],
      [1e9, 24],
      [80, 0],
      [80, 1.5],
      [10_001, 10],
      ['80', 24],
    ]) {
      expect(errorOf(() => pty.resize(cols as number, rows as number)).code).toBe('INVALID_ARGUMENT');
    }
    expect(pty).toMatchObject({ cols: 80, rows: 24 });
    pty.resize(10_000, 1);
    expect(pty).toMatchObject({ cols: 10_000, rows: 1 });
  });

  it('refuses write, resize and signal once stopped (INVALID_STATE), and resize after exit never throws out of the library', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({ command: 'sh', args: ['-c', 'exit 0'] });
    await pty.exited;
    expect(pty.state).toBe('stopped');
    expect(errorOf(() => pty.write('x')).code).toBe('INVALID_STATE');
    expect(errorOf(() => pty.resize(10, 10)).code).toBe('INVALID_STATE');
    expect(errorOf(() => pty.signal('SIGINT')).code).toBe('INVALID_STATE');
    expect(errorOf(() => pty.write(42 as unknown as string)).code).toBe('INVALID_ARGUMENT');
  });

  it('sends signals by name to the process group and records each one', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    const out = recordOutput(pty);
    pty.write("trap 'echo GOT-USR1' USR1; echo ready\r");
    await out.waitFor('ready\r\n');
    pty.signal('SIGUSR1');
    pty.write('\r');
    await out.waitFor('GOT-USR1');
    expect(errorOf(() => pty.signal('SIGNOPE')).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => pty.signal('usr1')).code).toBe('INVALID_ARGUMENT');
    await waitUntil(() => fixture.eventsOf('pty.signal', pty).length > 0, 'the signal to be recorded');
    const [record] = fixture.eventsOf('pty.signal', pty).map((e) => e.payload);
    expect(record).toMatchObject({ signal: 'SIGUSR1', target: 'group', pid: pty.pid, outcome: 'delivered' });
    expect(Math.abs((record as { sentAt: number }).sentAt - Date.now())).toBeLessThan(5_000);
  });

  it('validates spawn options with INVALID_ARGUMENT naming the field', async () => {
    fixture = createPtyFixture();
    const cases: [unknown, RegExp][] = [
      [{ cols: 0 }, /options\.cols/],
      [{ rows: 1e9 }, /options\.rows/],
      [{ env: { 'A=B': 'x' } }, /options\.env/],
      [{ env: { A: 'x\0y' } }, /options\.env\.A/],
      [{ args: 'ls' }, /options\.args/],
      [{ restart: 'sometimes' }, /options\.restart/],
      [{ bogus: 1 }, /bogus/],
      [{ command: '' }, /options\.command/],
    ];
    for (const [options, message] of cases) {
      const rejected = await fixture.spawn(options as never).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(rejected).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((rejected as Error).message).toMatch(message);
    }
    await expect(fixture.standalone.spawnPty(fixture.laneId, '/nonexistent/dir', BASH)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(fixture.standalone.spawnPty('lane_bad' as never, fixture.cwd, BASH)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(fixture.standalone.ptys()).toEqual([]);
  });

  it('refuses a PTY past maxPtys with CAPACITY', async () => {
    fixture = createPtyFixture({ maxPtys: 1 });
    await fixture.spawn();
    await expect(fixture.spawn()).rejects.toMatchObject({ code: 'CAPACITY' });
    expect(fixture.standalone.ptys()).toHaveLength(1);
  });

  it('keeps a registry entry per running PTY: lane, session, terminal, pid, group, session id, start time', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({ ...BASH, sessionId: 'sess-1', terminalId: 'term-7', name: 'xterm' });
    const record = fixture.standalone.registry.get(pty.id);
    const statFields = () => {
      const stat = readFileSync(`/proc/${pty.pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    };
    // The forked child makes itself a session leader (forkpty's setsid) once it is first scheduled.
    await waitUntil(() => Number(statFields()[3]) === pty.pid, 'the child to lead its session');
    const fields = statFields();
    expect(record).toMatchObject({
      laneId: fixture.laneId,
      sessionId: 'sess-1',
      terminalId: 'term-7',
      name: 'xterm',
      pid: pty.pid,
      pgid: Number(fields[2]),
      sid: Number(fields[3]),
      startTime: Number(fields[19]),
    });
    expect(record?.pgid).toBe(pty.pid);
    await pty.terminate({ graceMs: 500 });
    expect(fixture.standalone.registry.get(pty.id)).toBeUndefined();
  });

  it('publishes output in batches, not one event per chunk, and flushes before a resize', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn();
    // From its first byte (the prompt may have come before this subscription).
    const chunks: string[] = [pty.scrollback()];
    pty.onData((chunk) => chunks.push(chunk));
    pty.write('for i in $(seq 1 300); do echo line-$i; done\r');
    await waitUntil(() => chunks.join('').includes('line-300'), 'the last line');
    pty.resize(90, 20);
    await settle();
    const batches = fixture.eventsOf('pty.output', pty);
    const resized = fixture.eventsOf('pty.resized', pty)[0];
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(chunks.length + 1);
    const published = batches.map((e) => (e.payload as { data: string }).data).join('');
    // Everything read before the resize was published before it.
    expect(published.startsWith(chunks.join('').slice(0, published.length))).toBe(true);
    expect(published).toContain('line-300');
    expect(batches.every((e) => e.timestamp <= (resized?.timestamp ?? 0))).toBe(true);
    const offsets = batches.map((e) => e.payload as { offset: number; bytes: number });
    for (let i = 1; i < offsets.length; i++) {
      expect(offsets[i]?.offset).toBe((offsets[i - 1]?.offset ?? 0) + (offsets[i - 1]?.bytes ?? 0));
    }
  });
});
