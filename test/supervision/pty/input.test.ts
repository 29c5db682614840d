import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isLanevisorError } from '../../../bus/errors.js';
import { createPtyFixture, recordOutput } from '../../support/pty-fixture.js';
import { sleep, waitUntil } from '../../support/wait.js';

let fixture: ReturnType<typeof createPtyFixture>;
afterEach(async () => {
  await fixture?.dispose();
});

/** A child that puts its terminal in raw mode (every byte passes untouched), says so, then runs `then`. */
const rawChild = (then: string) => ({
  command: 'bash',
  args: ['--norc', '--noprofile', '-c', `stty raw -echo; echo raw-ready; ${then}`],
});

const pendingInput = (pty: unknown) =>
  (pty as { outputStats(): { pendingInputBytes: number } }).outputStats().pendingInputBytes;

describe('PTY input', () => {
  it('delivers 5 MiB intact (same SHA-256 on the other side)', async () => {
    fixture = createPtyFixture();
    const size = 5 * 1024 * 1024;
    const data = randomBytes(size);
    const pty = await fixture.spawn(rawChild(`head -c ${size} | sha256sum`));
    const out = recordOutput(pty);
    await out.waitFor('raw-ready');
    pty.write(data);
    const digest = createHash('sha256').update(data).digest('hex');
    await out.waitFor(digest, 20_000);
    // Through the host, what the terminal took is reported every INPUT_REPORT_MS: it may come
    // just after the output it caused.
    await waitUntil(() => pendingInput(pty) === 0, 'every byte to be reported taken');
  });

  it('keeps many small and large writes in order', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn(rawChild('cat'));
    const out = recordOutput(pty);
    await out.waitFor('raw-ready');
    let sent = '';
    for (let i = 0; i < 2_000; i++) {
      const piece = i % 100 === 0 ? `<${'x'.repeat(20_000)}:${i}>` : `<${i}>`;
      pty.write(piece);
      sent += piece;
    }
    // cat echoes every byte back: the echo ends with exactly what was sent, in order.
    await waitUntil(() => out.text.endsWith(sent), 'the echo of every write', 20_000);
    expect(out.text.indexOf('raw-ready')).toBeLessThan(out.text.length - sent.length);
  });

  it('refuses a write past the pending-input bound whole, with BACKPRESSURE, and keeps what it accepted', async () => {
    const bound = 64 * 1024;
    fixture = createPtyFixture({ pty: { maxPendingInputBytes: bound } });
    // Raw mode, nobody reading: the terminal's own buffer fills, the rest waits in ours.
    const pty = await fixture.spawn(rawChild('sleep 30'));
    const out = recordOutput(pty);
    await out.waitFor('raw-ready');
    pty.write(Buffer.alloc(40 * 1024, 'a'));
    await sleep(50);
    const pending = pendingInput(pty);
    expect(pending).toBeGreaterThan(0);
    let refused: unknown;
    try {
      pty.write(Buffer.alloc(bound - pending + 1, 'b'));
    } catch (error) {
      refused = error;
    }
    expect(isLanevisorError(refused, 'BACKPRESSURE')).toBe(true);
    expect((refused as Error).message).toMatch(/Wait for the program to read/);
    expect(pendingInput(pty)).toBe(pending);
    // Exactly up to the bound is accepted.
    pty.write(Buffer.alloc(bound - pending, 'c'));
    expect(pendingInput(pty)).toBe(bound);
  });

  it('does not spin while a child stops reading a large write', async () => {
    fixture = createPtyFixture();
    const pty = await fixture.spawn(rawChild('sleep 30'));
    const out = recordOutput(pty);
    await out.waitFor('raw-ready');
    pty.write(Buffer.alloc(8 * 1024 * 1024, 'z'));
    await sleep(200);
    const before = process.cpuUsage();
    const started = performance.now();
    await sleep(1_000);
    const used = process.cpuUsage(before);
    const cpuShare = (used.user + used.system) / 1_000 / (performance.now() - started);
    // A spinning retry loop costs most of a core (node-pty #956); paced retries cost almost nothing.
    expect(cpuShare).toBeLessThan(0.1);
    expect(pendingInput(pty)).toBeGreaterThan(7 * 1024 * 1024);
  });
});
