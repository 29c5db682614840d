import { describe, expect, it } from 'vitest';
import type { PtyExit, PtyProcess } from '../../../actors/pty/driver.js';
import { nodePtyDriver, signalName } from '../../../actors/pty/node-pty-driver.js';
import { waitUntil } from '../../support/wait.js';

function spawn(file: string, args: string[]): { pty: PtyProcess; output: () => string; exit: Promise<PtyExit> } {
  const pty = nodePtyDriver.spawn({
    file,
    args,
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cols: 80,
    rows: 24,
  });
  const chunks: Buffer[] = [];
  pty.onData((chunk) => {
    chunks.push(chunk);
  });
  const exit = new Promise<PtyExit>((resolve) => pty.onExit(resolve));
  return { pty, output: () => Buffer.concat(chunks).toString('utf8'), exit };
}

describe('the node-pty driver', () => {
  it('loads the native addon and runs a shell in a real terminal', async () => {
    const { pty, output, exit } = spawn('/bin/sh', ['-c', 'tty; echo done']);
    expect(pty.pid).toBeGreaterThan(0);
    expect(pty.ptsName).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await exit).toEqual({ exitCode: 0, signal: null });
    expect(output()).toContain(pty.ptsName);
    expect(output()).toContain('done');
  });

  it('after the exit, resize is a no-op and write reports the closed terminal (node-pty #827)', async () => {
    const { pty, exit } = spawn('/bin/sh', ['-c', 'exit 0']);
    await exit;
    expect(() => pty.resize(100, 40)).not.toThrow();
    expect(() => pty.write(Buffer.from('x'))).toThrow(/closed/);
    expect(() => pty.dispose()).not.toThrow();
  });

  it('pauses and resumes reading without losing output', async () => {
    const { pty, output, exit } = spawn('/bin/sh', ['-c', 'echo before; sleep 0.2; seq 1 2000; echo after']);
    await waitUntil(() => output().includes('before'), 'the first line');
    pty.pause();
    const seen = output().length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(output().length).toBe(seen);
    pty.resume();
    await exit;
    expect(output()).toContain('1999\r\n2000\r\nafter');
  });

  it('reports a death by signal with the signal name', async () => {
    const { pty, exit } = spawn('/bin/sleep', ['30']);
    pty.signal('SIGTERM');
    expect(await exit).toEqual({ exitCode: null, signal: 'SIGTERM' });
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(0)).toBeNull();
  });

  it('dispose kills a running child at once', async () => {
    const { pty } = spawn('/bin/sleep', ['30']);
    pty.dispose();
    await waitUntil(() => {
      try {
        process.kill(pty.pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the child to be gone');
  });

  it('forks even for a file that cannot run: the child fails in exec (why the process actor resolves commands first)', async () => {
    const { output, exit } = spawn('/nonexistent/binary', []);
    expect(await exit).toEqual({ exitCode: 1, signal: null });
    expect(output()).toMatch(/execvp\(3\) failed/);
  });
});
