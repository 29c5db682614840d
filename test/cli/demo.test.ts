import { describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../cli/program.js';
import { runLanevisor } from '../support/cli.js';

const run = (argv: string[]) => runLanevisor(argv);

describe('lanevisor demo', () => {
  it('shows lanes, a crash and its restart, exec, sharing and cleanup, and passes every check it prints', async () => {
    const { code, stdout, stderr } = await run(['demo']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_OK);
    expect(stdout).toContain('== starting work: a shell the demo types into, a build, a command that crashes\n');
    expect(stdout).toMatch(/\nTimeline\n/);
    expect(stdout).toMatch(/ supervisor\.restarted flaky generation=2\n/);
    expect(stdout).toMatch(/ lane\.closed shell branch=lane\/shell\n/);
    expect(stdout).toMatch(/\n\s+\d+ ms {2}create 3 lanes at once\n/);
    expect(stdout).toContain('  ok    no process of this runtime left\n');
    expect(stdout).not.toContain('FAIL');
    expect(stdout).toMatch(/\n14 of 14 checks passed\n$/);
  }, 60_000);

  it('prints the event stream as JSON lines with --json, then a summary', async () => {
    const { code, stdout } = await run(['demo', '--json']);
    expect(code).toBe(EXIT_OK);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const summary = lines.at(-1) as { type: string; ok: boolean; checks: { ok: boolean }[]; timings: object };
    expect(summary).toMatchObject({ type: 'summary', ok: true });
    expect(summary.checks).toHaveLength(14);
    const events = lines.slice(0, -1);
    expect(events.every((e) => e.type === 'event' && typeof e.topic === 'string')).toBe(true);
    expect(events.filter((e) => e.topic === 'lane.closed')).toHaveLength(3);
    expect(events.some((e) => e.topic === 'supervisor.restarted')).toBe(true);
  }, 60_000);
});
