import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createRuntime } from '../../supervision/runtime/runtime.js';
import { sanitize, serializeTraceLine, TRACE_MAX_LINE_BYTES, type TraceLine } from '../../supervision/runtime/trace.js';
import type { Runtime } from '../../supervision/runtime/types.js';
import { createTempRepo, type TempRepo } from '../support/git-repo.js';
import { BASH_PTY } from '../support/runtime-fixture.js';

const systemIdOf = (event: InspectionEvent): string | undefined => (event.actorRef as { systemId?: string }).systemId;

let repo: TempRepo;
let rt: Runtime | undefined;
afterEach(async () => {
  await rt?.shutdown({ cleanupLanes: true });
  rt = undefined;
  repo?.dispose();
});

describe('inspection', () => {
  it('reaches every actor of a lane lifecycle with a readable system id, snapshots, and stopped actors shown stopped; the trace file gets the same as JSON lines', async () => {
    repo = createTempRepo();
    const trace = join(repo.base, 'trace.jsonl');
    const events: InspectionEvent[] = [];
    let observed = 0;
    rt = await createRuntime({
      repo: repo.path,
      inspect: (event) => events.push(event as InspectionEvent),
      trace,
    });
    // An observer object is accepted too (XState's `{ next }` form).
    const second = await createRuntime({
      repo: repo.path,
      stateDir: join(repo.base, 'other-state'),
      inspect: { next: () => observed++ },
    });
    await second.shutdown();
    expect(observed).toBeGreaterThan(0);

    const lane = await rt.createLane({ label: 'watched' });
    const pty = await lane.spawnPty(BASH_PTY);
    await lane.exec(['true']);
    await lane.cleanup();
    await rt.shutdown();
    rt = undefined;

    const systemIds = new Set(events.map((e) => systemIdOf(e)).filter(Boolean));
    const laneActor = `lane:${lane.id}`;
    const ptyActor = `lane:${lane.id}/pty:${pty.id}`;
    expect([...systemIds]).toEqual(expect.arrayContaining(['runtime', laneActor, ptyActor, `${laneActor}/task`]));
    expect([...systemIds].some((id) => id?.startsWith(`lane:${lane.id}/exec_`))).toBe(true);
    const snapshotsOf = (systemId: string) =>
      events.filter((e) => e.type === '@xstate.snapshot' && systemIdOf(e) === systemId);
    for (const id of [laneActor, ptyActor]) {
      const snapshots = snapshotsOf(id);
      expect(snapshots.length).toBeGreaterThan(1);
      const last = snapshots.at(-1) as { snapshot: { status: string } };
      expect(['done', 'stopped']).toContain(last.snapshot.status);
    }
    expect(
      snapshotsOf(laneActor).some(
        (e) =>
          JSON.stringify((e as unknown as { snapshot: { value: unknown } }).snapshot.value) === '{"active":"ready"}',
      ),
    ).toBe(true);

    const lines = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TraceLine);
    expect(lines.length).toBe(events.length);
    // Invoked steps are named under their lane: the provisioning, the cleanup steps.
    const names = new Set(lines.map((l) => l.actor));
    expect(names).toContain(`${laneActor}/task`);
    for (const step of ['provision', 'stopTask', 'salvage', 'removeWorktree', 'removeBranch', 'removeRecord']) {
      expect(names).toContain(`${laneActor}/${step}`);
    }
    expect([...names].every((name) => name === 'runtime' || name.startsWith('lane:'))).toBe(true);
    const ptyLines = lines.filter((l) => l.actor === ptyActor && l.type === '@xstate.snapshot');
    expect(ptyLines.at(-1)?.status).toMatch(/done|stopped/);
    expect(lines.every((l) => Buffer.byteLength(JSON.stringify(l)) <= TRACE_MAX_LINE_BYTES)).toBe(true);
  });

  it('sanitizes: no actor objects, buffers, functions or class instances; long strings and arrays cut; depth bounded', () => {
    const actorRef = { sessionId: 'x:1', systemId: 'lane:a', send: () => undefined };
    const clean = sanitize({
      ref: actorRef,
      data: Buffer.from('secret bytes'),
      fn: () => 1,
      timer: setTimeout(() => undefined, 0),
      long: 'y'.repeat(2_000),
      many: Array.from({ length: 100 }, (_, i) => i),
      deep: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } },
      error: new Error('boom'),
      big: 10n,
    }) as Record<string, unknown>;
    expect(clean.ref).toEqual({ actor: 'lane:a' });
    expect(clean.data).toEqual({ bytes: 12 });
    expect('fn' in clean).toBe(false);
    expect(clean.timer).toBe('[Timeout]');
    expect((clean.long as string).length).toBeLessThan(600);
    expect((clean.many as unknown[]).length).toBe(33);
    expect(JSON.stringify(clean.deep)).toContain('…');
    expect(clean.error).toEqual({ error: 'boom' });
    expect(clean.big).toBe('10');
    const huge = serializeTraceLine({
      ts: 1,
      type: '@xstate.snapshot',
      actor: 'a',
      rootId: 'r',
      context: Array.from({ length: 40 }, () => 'z'.repeat(500)).reduce<Record<string, string>>((o, v, i) => {
        o[`k${i}`] = v;
        return o;
      }, {}),
    });
    expect(JSON.parse(huge)).toEqual({ ts: 1, type: '@xstate.snapshot', actor: 'a', rootId: 'r', truncated: true });
  });

  it('rejects a trace file it cannot write, before anything starts', async () => {
    repo = createTempRepo();
    await expect(
      createRuntime({ repo: repo.path, trace: join(repo.base, 'missing', 'dir', 't.jsonl') }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // The lock was released: a runtime can start.
    rt = await createRuntime({ repo: repo.path });
  });
});
