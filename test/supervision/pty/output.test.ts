import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { readProcStat } from '../../../actors/process/proc.js';
import { MAX_PULL_CHARS } from '../../../actors/pty/output-buffer.js';
import type { Pty } from '../../../supervision/pty/types.js';
import { BASH, createPtyFixture, recordOutput } from '../../support/pty-fixture.js';
import { settle, sleep, waitUntil } from '../../support/wait.js';

let fixture: ReturnType<typeof createPtyFixture>;
afterEach(async () => {
  await fixture?.dispose();
});

const SEQ_LINES = 30_000;
const seqOutput = execFileSync('seq', ['1', String(SEQ_LINES)], { encoding: 'utf8' }).replace(/\n/g, '\r\n');

async function collect(iterable: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of iterable) text += chunk;
  return text;
}

describe('PTY output', () => {
  it('loses nothing of a child that prints a lot and exits at once: 50 runs of 50', async () => {
    fixture = createPtyFixture();
    let complete = 0;
    for (let batch = 0; batch < 5; batch++) {
      const runs = Array.from({ length: 10 }, async () => {
        const pty = await fixture.spawn({ command: 'seq', args: ['1', String(SEQ_LINES)] });
        const pulled = collect(pty.output());
        const out = recordOutput(pty);
        const exit = await pty.exited;
        expect(exit).toEqual({ exitCode: 0, signal: null });
        expect(pty.state).toBe('stopped');
        // onData listeners joined right after spawn may have missed the first chunk; the iterator did not.
        if ((await pulled) === seqOutput && seqOutput.endsWith(out.text)) complete++;
      });
      await Promise.all(runs);
    }
    expect(complete).toBe(50);
  });

  it('publishes every byte on the bus as pty.output batches, the last one before pty.stopped', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({ command: 'seq', args: ['1', String(SEQ_LINES)] });
    await pty.exited;
    await settle();
    const topics = fixture.events.filter((e) => (e.payload as { ptyId?: string }).ptyId === pty.id).map((e) => e.topic);
    expect(topics.lastIndexOf('pty.output')).toBeLessThan(topics.indexOf('pty.stopped'));
    const data = fixture
      .eventsOf('pty.output', pty)
      .map((e) => (e.payload as { data: string }).data)
      .join('');
    expect(data).toBe(seqOutput);
    expect(fixture.eventsOf('pty.stopped', pty)[0]?.payload).toMatchObject({
      state: 'stopped',
      exitCode: 0,
      signal: null,
      escalated: false,
      outputBytes: Buffer.byteLength(seqOutput),
      droppedBytes: 0,
    });
  });

  it('keeps reading output that arrives after the child exited (a grandchild still writing)', async () => {
    fixture = createPtyFixture();
    // The grandchild leaves the session (setsid) before sh, the session leader, exits and the
    // kernel hangs the session up; it writes 100 ms after sh is gone.
    const pty = await fixture.spawn({
      command: 'sh',
      args: ['-c', "setsid sh -c 'sleep 0.15; echo late-output' & sleep 0.05; echo early-output"],
    });
    const pulled = collect(pty.output());
    await pty.exited;
    const text = await pulled;
    expect(text).toContain('early-output');
    expect(text).toContain('late-output');
  });

  it('keeps multibyte characters whole across chunks', async () => {
    fixture = createPtyFixture();
    const unit = 'é€😀ü';
    const count = 40_000;
    const pty = await fixture.spawn({ command: 'sh', args: ['-c', `yes '${unit}' | head -n ${count} | tr -d '\\n'`] });
    const text = await collect(pty.output());
    expect(text).not.toContain('\uFFFD');
    expect(text).toBe(unit.repeat(count));
  });

  it('counts offsets in the bytes the terminal printed, also where they are not UTF-8', async () => {
    fixture = createPtyFixture();
    // 0xff is no UTF-8: shown as U+FFFD (three bytes in UTF-8), counted as the one byte it was.
    const pty = await fixture.spawn({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', "printf 'a\\377b'; sleep 0.3; printf 'c'; exec sleep 600"],
    });
    const chunks: Array<{ chunk: string; offset: number }> = [];
    let text = pty.scrollback();
    pty.onData((chunk, offset) => {
      chunks.push({ chunk, offset });
      text += chunk;
    });
    await waitUntil(() => text.endsWith('c'), 'the last byte');
    expect(text).toBe('a\uFFFDbc');
    expect(chunks.at(-1)).toEqual({ chunk: 'c', offset: 3 });
    expect((await pty.screen()).offset).toBe(4);
  });

  it('with no pulling consumer, keeps reading and retains at most outputBufferBytes of scrollback, counting what it dropped', async () => {
    const limit = 256 * 1024;
    fixture = createPtyFixture({ pty: { outputBufferBytes: limit } });
    const total = 3_000_000;
    const pty = await fixture.spawn({ command: 'sh', args: ['-c', `head -c ${total} /dev/zero | tr '\\0' a`] });
    const exit = await pty.exited;
    expect(exit.exitCode).toBe(0);
    const scrollback = pty.scrollback();
    expect(scrollback.length).toBeLessThanOrEqual(limit);
    expect(scrollback.length).toBeGreaterThan(limit / 2);
    expect(scrollback).toBe('a'.repeat(scrollback.length));
    await settle();
    const stopped = fixture.eventsOf('pty.stopped', pty)[0]?.payload as { outputBytes: number; droppedBytes: number };
    expect(stopped.outputBytes).toBe(total);
    expect(stopped.droppedBytes).toBeGreaterThanOrEqual(total - limit - 64 * 1024);
    expect(fixture.eventsOf('pty.state_changed', pty).map((e) => (e.payload as { to: string }).to)).not.toContain(
      'throttled',
    );
  });

  it('an iterator made right after spawn misses nothing and ends after the last byte; pulls are joined', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn({ command: 'seq', args: ['1', String(SEQ_LINES)] });
    await sleep(50);
    const sizes: number[] = [];
    let text = '';
    for await (const chunk of pty.output()) {
      sizes.push(chunk.length);
      text += chunk;
    }
    expect(text).toBe(seqOutput);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_PULL_CHARS);
    // A second iterator after the end still gets the retained scrollback, then ends.
    expect(await collect(pty.output())).toBe(seqOutput);
  });

  it('throttles a flooding child behind a stalled pulling consumer, bounds memory, stops the child, then drains back to active', async () => {
    const limit = 1024 * 1024;
    fixture = createPtyFixture({ pty: { outputBufferBytes: limit } });
    const pty = await fixture.spawn({ command: 'yes' });
    const iterator = pty.output()[Symbol.asyncIterator]();
    await iterator.next();
    const rssBefore = process.memoryUsage().rss;
    await waitUntil(() => pty.state === 'throttled', 'the PTY to throttle');
    const stats = (pty as unknown as { outputStats(): { retainedBytes: number } }).outputStats();
    expect(stats.retainedBytes).toBeLessThanOrEqual(limit + 256 * 1024);
    // The child is blocked in the kernel: its CPU time stops growing.
    const cpu = () => readProcStat(pty.pid)?.cpuTicks ?? Number.NaN;
    await sleep(200);
    const cpuBefore = cpu();
    await sleep(500);
    expect(cpu() - cpuBefore).toBeLessThanOrEqual(2);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    expect(
      (pty as unknown as { outputStats(): { retainedBytes: number } }).outputStats().retainedBytes,
    ).toBeLessThanOrEqual(limit + 256 * 1024);
    // The consumer catches up: reading resumes and the PTY is active again.
    for (let i = 0; i < 20; i++) await iterator.next();
    await waitUntil(() => pty.state === 'active', 'the PTY to become active again');
    await iterator.return?.();
    await settle();
    const transitions = fixture
      .eventsOf('pty.state_changed', pty)
      .map((e) => e.payload as { to: string; reason?: string });
    expect(transitions).toContainEqual(expect.objectContaining({ to: 'throttled', reason: 'backpressure' }));
    expect(transitions).toContainEqual(expect.objectContaining({ to: 'active', reason: 'drained' }));
    // After the slow consumer left, nothing holds the PTY back.
    await sleep(100);
    expect(pty.state).toBe('active');
  });

  it('a pulling consumer loses nothing, even behind a flood', async () => {
    fixture = createPtyFixture({ pty: { outputBufferBytes: 16 * 1024 } });
    const lines = 200_000;
    const pty = await fixture.spawn({ command: 'seq', args: ['1', String(lines)] });
    let text = '';
    let pulls = 0;
    for await (const chunk of pty.output()) {
      text += chunk;
      if (++pulls % 2 === 0) await sleep(5);
    }
    const expected = execFileSync('seq', ['1', String(lines)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    expect(text).toBe(expected.replace(/\n/g, '\r\n'));
    await settle();
    // It was behind (the PTY throttled for it) and still got every byte.
    const reasons = fixture.eventsOf('pty.state_changed', pty).map((e) => (e.payload as { reason: string }).reason);
    expect(reasons).toContain('backpressure');
  });

  it('goes throttled (idle) after idleTimeoutMs without output, alerts, and returns to active on output', async () => {
    fixture = createPtyFixture({ pty: { idleTimeoutMs: 150 } });
    const pty = await fixture.spawn();
    await waitUntil(() => pty.state === 'throttled', 'the idle throttle');
    await settle();
    const alerts = fixture.eventsOf('pty.idle', pty).map((e) => e.payload as { idleMs: number });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.idleMs).toBeGreaterThanOrEqual(140);
    const out = recordOutput(pty);
    pty.write('echo awake\r');
    await out.waitFor('awake');
    await waitUntil(() => pty.state === 'active', 'active after output');
    const reasons = fixture.eventsOf('pty.state_changed', pty).map((e) => (e.payload as { reason: string }).reason);
    expect(reasons).toEqual(expect.arrayContaining(['idle', 'output']));
  });

  it('a throwing onData listener is reported once and stops neither the others nor the PTY', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn(BASH);
    pty.onData(() => {
      throw new Error('listener bug');
    });
    const out = recordOutput(pty);
    pty.write('echo one\r');
    await out.waitFor('one\r\n');
    pty.write('echo two\r');
    await out.waitFor('two\r\n');
    await settle();
    expect(pty.state).toBe('active');
    const errors = fixture.eventsOf('pty.error', pty).map((e) => e.payload);
    expect(errors).toEqual([expect.objectContaining({ code: 'LISTENER_ERROR', message: 'listener bug' })]);
  });

  it('onData listeners get every chunk from subscription on, and stop when unsubscribed', async () => {
    fixture = createPtyFixture();
    const pty: Pty = await fixture.spawn();
    const seen: string[] = [];
    const unsubscribe = pty.onData((chunk) => seen.push(chunk));
    const out = recordOutput(pty);
    pty.write('echo first\r');
    await out.waitFor('first\r\n');
    unsubscribe();
    const before = seen.join('');
    pty.write('echo second\r');
    await out.waitFor('second\r\n');
    expect(seen.join('')).toBe(before);
    expect(before).toContain('first');
    expect(pty.scrollback()).toContain('second');
  });
});
