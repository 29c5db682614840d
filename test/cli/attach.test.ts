import type { IPty } from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../bus/envelopes.js';
import { createBus } from '../../bus/local-bus.js';
import { EXIT_FAILURE, EXIT_OK } from '../../cli/io.js';
import type { Pty } from '../../supervision/pty/types.js';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import type { Runtime } from '../../supervision/runtime/types.js';
import { runLanevisor } from '../support/cli.js';
import { distModule } from '../support/dist.js';
import { createTempRepo, type TempRepo } from '../support/git-repo.js';
import { programInTerminal } from '../support/terminal-screen.js';
import { waitUntil } from '../support/wait.js';

let repo: TempRepo;
const runtimes: Runtime[] = [];
const terminals: IPty[] = [];
afterEach(async () => {
  for (const terminal of terminals.splice(0)) terminal.kill('SIGKILL');
  for (const runtime of runtimes.splice(0)) await runtime.shutdown({ cleanupLanes: true });
  repo?.dispose();
});

/** A runtime (on the terminal host, unless asked otherwise) with a lane `term` running an interactive bash. */
async function laneWithShell(
  events: EventEnvelope[] = [],
  host: 'process' | 'inline' = 'process',
): Promise<{ rt: Runtime; shell: Pty }> {
  repo = createTempRepo();
  const bus = createBus({ queueLimit: 1_000_000 });
  bus.subscribe('**', (event) => void events.push(event), { queueLimit: 1_000_000 });
  const rt = await createRuntime({
    repo: repo.path,
    bus,
    pty: { host, lingerMs: 60_000, terminateGraceMs: 500 },
  });
  runtimes.push(rt);
  const lane = await rt.createLane({ label: 'term' });
  const shell = await lane.spawnPty({
    command: 'bash',
    args: ['--norc', '--noprofile', '-i'],
    env: { PS1: 'prompt$ ' },
  });
  return { rt, shell };
}

/** `lanevisor attach` running in a real terminal of the test's, with what a person would see of it. */
function attachInTerminal(...args: string[]) {
  const running = programInTerminal(
    process.execPath,
    [distModule('cli/main.js'), 'attach', ...args, '--repo', repo.path],
    {
      cols: 100,
      rows: 30,
    },
  );
  terminals.push(running.terminal);
  return running;
}

describe('lanevisor attach', () => {
  // Through the terminal host, and through the runtime's control socket when its terminals are inline.
  it.each(['process', 'inline'] as const)(
    "with terminals %s: shows the lane's terminal, types into it, takes its size, detaches leaving it running, and attaches again to the same screen",
    async (host) => {
      const events: EventEnvelope[] = [];
      const { shell } = await laneWithShell(events, host);
      shell.write('echo before-attach\r');
      const first = attachInTerminal('term');
      await first.shows('before-attach');
      expect(first.raw()).toContain('Ctrl-] detaches');
      // It took the attached terminal's size.
      await waitUntil(
        () => shell.cols === 100 && shell.rows === 30,
        'the PTY to take the size of the attached terminal',
      );
      first.terminal.write('echo typed-$((20 + 22))\r');
      await first.shows('typed-42');
      await waitUntil(() => shell.scrollback().includes('typed-42'), 'the runtime to see the typed line too');
      first.terminal.resize(120, 40);
      await waitUntil(() => shell.cols === 120 && shell.rows === 40, 'the PTY to follow the resize');
      expect(events.some((e) => e.topic === 'pty.resized' && (e.payload as { cols: number }).cols === 120)).toBe(true);
      first.terminal.write('\u001d');
      expect(await first.exited).toBe(EXIT_OK);
      expect(first.raw()).toContain('detached from lane term');
      expect(shell.state).toBe('active');

      const second = attachInTerminal('term', '--read-only');
      await second.shows('typed-42', 'the same screen');
      second.terminal.write('echo should-not-arrive\r');
      shell.write('exit 3\r');
      expect(await second.exited).toBe(3);
      expect(shell.scrollback()).not.toContain('should-not-arrive');
    },
    60_000,
  );

  it('works while no runtime is alive (the host lingers), and names what does not exist in one line', async () => {
    const { rt, shell } = await laneWithShell();
    shell.write('echo kept-alive\r');
    await waitUntil(() => shell.scrollback().includes('kept-alive'), 'the line');
    await rt.shutdown({ keepPtys: true });
    runtimes.splice(0);
    const attached = attachInTerminal('term');
    await attached.shows('kept-alive');
    attached.terminal.write('\u001d');
    expect(await attached.exited).toBe(EXIT_OK);

    const unknown = await runLanevisor(['attach', 'nope', '--repo', repo.path]);
    expect(unknown).toMatchObject({
      code: EXIT_FAILURE,
      stderr: 'lanevisor: no lane "nope"; known: term (lanevisor ls)\n',
    });
    const noPty = await runLanevisor(['attach', 'term', '--pty', 'pty_0000000000000000', '--repo', repo.path]);
    expect(noPty.code).toBe(EXIT_FAILURE);
    expect(noPty.stderr).toMatch(
      /^lanevisor: lane term has no running PTY pty_0000000000000000 in the terminal host; it has pty_\w+\n$/,
    );
    // Adopt and end the kept PTY so that nothing lingers.
    const next = await createRuntime({ repo: repo.path, pty: { host: 'process', terminateGraceMs: 500 } });
    runtimes.push(next);
    expect(next.reconciliation.ptys.adopted).toBe(1);
  }, 60_000);
});
