import type { IPty } from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../cli/io.js';
import { connectNats, type NatsLink } from '../../nats/index.js';
import type { Pty } from '../../supervision/pty/types.js';
import { runLanevisor } from '../support/cli.js';
import { distModule } from '../support/dist.js';
import { type NatsServerFixture, startNatsServer } from '../support/nats-server.js';
import { BASH_PTY, createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';
import { programInTerminal } from '../support/terminal-screen.js';
import { waitUntil } from '../support/wait.js';

/** `lanevisor status --nats` and `attach --nats` against two runtimes on one real nats-server. */
describe('the command line across machines', () => {
  let nats: NatsServerFixture;
  let here: RuntimeFixture;
  let there: RuntimeFixture;
  let links: NatsLink[] = [];
  let shell: Pty;
  const terminals: IPty[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    here = await createRuntimeFixture();
    there = await createRuntimeFixture();
    links = [await connectNats(here.rt, { servers: nats.url }), await connectNats(there.rt, { servers: nats.url })];
    await here.rt.createLane({ label: 'near' });
    const far = await there.rt.createLane({ label: 'far' });
    shell = await far.spawnPty({ ...BASH_PTY, env: { PS1: 'far$ ' } });
  }, 60_000);

  afterAll(async () => {
    for (const terminal of terminals) terminal.kill('SIGKILL');
    for (const link of links) await link.close();
    await here?.dispose();
    await there?.dispose();
    await nats?.dispose();
  }, 60_000);

  it('status --nats lists every runtime on that NATS, grouped by host, with its lanes', async () => {
    const { code, stdout } = await runLanevisor(['status', '--nats', nats.url]);
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/^host \S+/);
    for (const runtime of [here.rt, there.rt]) expect(stdout).toContain(`runtime ${runtime.id}`);
    expect(stdout).toContain(there.rt.repo);
    expect(stdout).toMatch(/near\s+ready/);
    expect(stdout).toContain(shell.id);

    const json = JSON.parse((await runLanevisor(['status', '--nats', nats.url, '--json'])).stdout) as {
      runtimes: Array<{ announcement: { runtimeId: string }; lanes: Array<{ label: string }> }>;
    };
    const far = json.runtimes.find((runtime) => runtime.announcement.runtimeId === there.rt.id);
    expect(far?.lanes.map((lane) => lane.label)).toEqual(['far']);
  });

  it("attach --nats reaches a lane's terminal on another runtime: shows it, types into it, detaches", async () => {
    shell.write('echo far-away-before\r');
    const { terminal, exited, raw, shows } = programInTerminal(
      process.execPath,
      [distModule('cli/main.js'), 'attach', 'far', '--nats', nats.url],
      // Not inside either repository: NATS alone finds the lane.
      { cols: 90, rows: 25, cwd: '/' },
    );
    terminals.push(terminal);
    await shows('far-away-before', 'the remote screen');
    await waitUntil(() => shell.cols === 90 && shell.rows === 25, 'the remote PTY to take the size', 10_000);
    terminal.write('echo typed-far-$((40+2))\r');
    await shows('typed-far-42', 'the echo of what was typed');
    expect(shell.scrollback()).toContain('typed-far-42');
    terminal.write('\u001d');
    expect(await exited).toBe(EXIT_OK);
    expect(raw()).toContain('detached from lane far');
    expect(shell.state).toBe('active');
  }, 60_000);

  it('status --nats-prefix looks at that prefix only, and no URL credentials are ever printed', async () => {
    const other = await runLanevisor(['status', '--nats', nats.url, '--nats-prefix', 'team-b']);
    expect(other.code).toBe(EXIT_OK);
    expect(other.stdout).toContain('no runtime is announced on');
    const withToken = await runLanevisor([
      'status',
      '--nats',
      `nats://s3cret-token@127.0.0.1:${nats.port}`,
      '--nats-prefix',
      'x',
    ]);
    expect(withToken.stdout + withToken.stderr).not.toContain('s3cret-token');
    expect(withToken.stdout).toContain('***@127.0.0.1');
  });

  it('attach --nats names what is missing', async () => {
    const { code, stderr } = await runLanevisor(['attach', 'nowhere', '--nats', nats.url]);
    expect(code).not.toBe(EXIT_OK);
    expect(stderr).toContain('no runtime on');
    expect(stderr).toContain('nowhere');
  });
});
