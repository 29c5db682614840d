import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../../supervision/runtime/runtime.js';
import {
  type CrashOp,
  CrashRun,
  findWrittenFile,
  NOTHING_STRAY,
  startUnrelatedProcesses,
  stillAlive,
  strayState,
} from '../../support/crash-harness.js';
import { createTempRepo } from '../../support/git-repo.js';
import { sleep } from '../../support/wait.js';

/**
 * Random operation sequences on two lanes, with the runtime SIGKILLed at a random moment (as a
 * step starts, plus a random delay that lands inside it or later); a new runtime must then leave
 * nothing of the dead one and keep every file the dead one had written. A few runs here;
 * `npm run test:soak` runs many (LANEVISOR_SOAK_RUNS).
 */
const RUNS = Number(process.env.LANEVISOR_SOAK_RUNS ?? 3);
const LABELS = ['a', 'b'] as const;

type Intent =
  | { readonly kind: 'create' | 'commit' | 'cleanup'; readonly lane: 0 | 1 }
  | { readonly kind: 'pty'; readonly lane: 0 | 1; readonly pty: 'plain' | 'trap' | 'bg' | 'setsid' }
  | { readonly kind: 'write'; readonly lane: 0 | 1; readonly files: 1 | 300 };

const intentArb: fc.Arbitrary<Intent> = fc.oneof(
  fc.record({ kind: fc.constantFrom('create', 'commit', 'cleanup'), lane: fc.constantFrom(0, 1) }),
  fc.record({
    kind: fc.constant('pty'),
    lane: fc.constantFrom(0, 1),
    pty: fc.constantFrom('plain', 'trap', 'bg', 'setsid'),
  }),
  fc.record({ kind: fc.constant('write'), lane: fc.constantFrom(0, 1), files: fc.constantFrom(1, 300) }),
) as fc.Arbitrary<Intent>;

/** Turns intents into a valid script: a step on a lane that is not open opens it first. */
function toOps(intents: readonly Intent[]): CrashOp[] {
  const open = new Set<string>();
  const ops: CrashOp[] = [];
  let generation = 0;
  intents.forEach((intent, n) => {
    const label = `${LABELS[intent.lane]}${generation}`;
    if (!open.has(label)) {
      ops.push({ type: 'create', label });
      open.add(label);
      if (intent.kind === 'create') return;
    }
    if (intent.kind === 'create') return;
    if (intent.kind === 'pty') ops.push({ type: 'pty', label, kind: intent.pty });
    if (intent.kind === 'write') {
      ops.push({
        type: 'write',
        label,
        file: `f${n}`,
        content: `written by step ${n}\n`,
        count: intent.files === 1 ? undefined : intent.files,
      } as CrashOp);
    }
    if (intent.kind === 'commit') ops.push({ type: 'commit', label, message: `step ${n}` });
    if (intent.kind === 'cleanup') {
      ops.push({ type: 'cleanup', label });
      open.delete(label);
      // A label is used once: the next lane on this side gets a new one (its branch may be kept).
      generation++;
    }
  });
  return ops;
}

describe('crash recovery, model', () => {
  it(
    'recovers from a kill at any moment of any sequence',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(intentArb, { minLength: 1, maxLength: 6 }),
          fc.nat(),
          fc.integer({ min: 0, max: 80 }),
          async (intents, killAtSeed, delayMs) => {
            const ops = toOps(intents);
            const killAt = killAtSeed % (ops.length + 1);
            const repo = createTempRepo(20);
            const unrelated = await startUnrelatedProcesses();
            const run = new CrashRun(repo.path, ops, { pty: { terminateGraceMs: 300 } });
            let next: Awaited<ReturnType<typeof createRuntime>> | undefined;
            try {
              const deadId = await run.runtimeId();
              await run.waitFor((line) => (killAt === ops.length ? line.idle === true : line.op === killAt));
              await sleep(delayMs);
              await run.kill();
              const written = ops.flatMap((op, index) => {
                if (op.type !== 'write' || !run.lines.some((l) => l.op === index && l.phase === 'done')) return [];
                const files = op.count === undefined ? [op.file] : [`${op.file}-0`, `${op.file}-${op.count - 1}`];
                return files.map((file) => ({ file, content: op.content }));
              });
              const stateDir = join(repo.path, '.git', 'lanevisor');
              const count = (dir: string) =>
                existsSync(join(stateDir, dir))
                  ? readdirSync(join(stateDir, dir)).filter((f) => f.endsWith('.json')).length
                  : 0;
              const [records, ptys] = [count('lanes'), count('ptys')];

              next = await createRuntime({ repo: repo.path });
              const report = next.reconciliation;
              expect(strayState(repo.path, next, deadId)).toEqual(NOTHING_STRAY);
              for (const { file, content } of written) {
                expect(
                  findWrittenFile(repo.path, next, file, content),
                  `${file} after ${JSON.stringify(ops)}`,
                ).not.toBeNull();
              }
              expect(stillAlive(unrelated.pids)).toEqual(unrelated.pids);
              expect(report.lanes.resumed + report.lanes.cleaned).toBe(records);
              expect(report.lanes.resumed).toBe(next.lanes().length);
              expect(report.ptys.lost).toBe(ptys);
              expect(report.processes).toMatchObject({ survived: 0, killed: report.processes.found });
              expect(report.lanes.stalled).toBe(0);
            } finally {
              await run.kill();
              await next?.shutdown({ cleanupLanes: true });
              unrelated.stop();
              repo.dispose();
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    60_000 + RUNS * 20_000,
  );
});
