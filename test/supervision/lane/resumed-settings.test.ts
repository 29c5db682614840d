import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../bus/envelopes.js';
import type { Runtime } from '../../../supervision/runtime/types.js';
import { createRuntimeFixture, leftovers, NOTHING_LEFT, type RuntimeFixture } from '../../support/runtime-fixture.js';

let fixture: RuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
});

const withConfig = (config: object) => (repo: string) =>
  writeFileSync(join(repo, 'lanevisor.json'), JSON.stringify(config));

const recordedPort = (rt: Runtime, laneId: string) =>
  (JSON.parse(readFileSync(join(rt.stateDir, 'lanes', `${laneId}.json`), 'utf8')) as { port: number | null }).port;

const envLine = (text: string, name: string) =>
  text
    .split(/\r?\n/)
    .find((line) => line.startsWith(`${name}=`))
    ?.slice(name.length + 1);

const ofTopic = (events: readonly EventEnvelope[], topic: string) =>
  events.filter((event) => event.topic === topic).map((event) => event.payload as Record<string, unknown>);

describe("lanevisor.json's settings of a lane a second runtime resumed", () => {
  it('keeps its port (record, environment of execs and PTYs) and gives a new lane another', async () => {
    fixture = await createRuntimeFixture({}, 3, withConfig({ ports: { base: 43_100, perLane: 10 } }));
    const first = await fixture.rt.createLane({ label: 'first' });
    const second = await fixture.rt.createLane({ label: 'second' });
    expect([first.port, second.port]).toEqual([43_100, 43_110]);
    expect(recordedPort(fixture.rt, second.id)).toBe(43_110);
    // The lowest slot is free again: a runtime that handed ports out afresh would give it to `second`.
    await first.cleanup();
    await fixture.rt.shutdown();

    const next = await fixture.restart();
    const resumed = next.getLane(second.id);
    expect(resumed?.state).toBe('ready');
    expect(resumed?.port).toBe(43_110);
    expect(recordedPort(next, second.id)).toBe(43_110);
    const exec = await (resumed as NonNullable<typeof resumed>).exec(['env']);
    expect(envLine(exec.stdout, 'LANEVISOR_PORT')).toBe('43110');
    const pty = await (resumed as NonNullable<typeof resumed>).spawnPty({
      command: 'bash',
      args: ['-c', 'echo "port=$LANEVISOR_PORT"; sleep 0.1'],
    });
    await pty.exited;
    expect(pty.scrollback()).toContain('port=43110');

    const fresh = await next.createLane({ label: 'third' });
    expect(fresh.port).toBe(43_100);
    expect(fresh.port).not.toBe(resumed?.port);
    // Both live lanes are told apart again after one more restart.
    await next.shutdown();
    const last = await fixture.restart();
    expect(
      last
        .lanes()
        .map((lane) => [lane.label, lane.port])
        .sort(),
    ).toEqual([
      ['second', 43_110],
      ['third', 43_100],
    ]);
    expect((await last.createLane()).port).toBe(43_120);
  });

  it('runs teardown.run at the cleanup of a resumed lane, with its environment, before the worktree goes', async () => {
    let out = '';
    fixture = await createRuntimeFixture({}, 3, (repo) => {
      out = join(dirname(repo), 'teardown.out');
      withConfig({
        ports: { base: 43_200 },
        teardown: { run: ['echo "$LANEVISOR_LANE_ID $LANEVISOR_PORT $(cat kept.txt)" > "$TEARDOWN_OUT"'] },
        env: { set: { TEARDOWN_OUT: out } },
      })(repo);
    });
    const lane = await fixture.rt.createLane({ setup: false });
    writeFileSync(join(lane.worktreePath, 'kept.txt'), 'from-the-worktree\n');
    await fixture.rt.shutdown();
    // Shutting down keeps the lane: no teardown yet.
    expect(ofTopic(fixture.events, 'lane.setup_step')).toEqual([]);

    const next = await fixture.restart();
    const resumed = next.getLane(lane.id) as NonNullable<ReturnType<Runtime['getLane']>>;
    const report = await resumed.cleanup();
    expect(report.teardown).toEqual({ ok: true });
    expect(readFileSync(out, 'utf8')).toBe(`${lane.id} 43200 from-the-worktree\n`);
    expect(ofTopic(fixture.events, 'lane.setup_step').map((step) => [step.kind, step.index, step.exitCode])).toEqual([
      ['teardown', 1, 0],
    ]);
    // The teardown came before the salvage and the worktree's removal.
    const topics = fixture.topics().filter((topic) => topic !== 'pty.activity');
    expect(topics.lastIndexOf('lane.setup_step')).toBeLessThan(topics.lastIndexOf('lane.salvaged'));
    expect(topics.lastIndexOf('lane.salvaged')).toBeLessThan(topics.lastIndexOf('lane.worktree_removed'));
    expect(report.salvagedRef).toMatch(/^refs\/lanevisor\/salvage\//);
    expect(leftovers(fixture, next)).toEqual(NOTHING_LEFT);
  });
});
