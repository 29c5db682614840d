import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type EventEnvelope, type Lane, plainLine } from '../../index.js';
import { type DemoCheck, type DemoOptions, type DemoResult, runDemo } from '../demo/scenario.js';
import { CliExit, type CliIo, EXIT_FAILURE } from '../io.js';
import { describeEvent, LIVE_REFRESH_MS, LiveBlock, noteLaneName, type StatusRow, statusTable } from '../lane-view.js';
import { addInspectionOptions, startInspection } from '../options.js';
import { SetupProgress } from '../setup-progress.js';
import { StopSignals } from '../stop-signals.js';

/** The lifecycle events the timeline shows (state changes and output are in the live table). */
const TIMELINE =
  /^(lane\.(created|worktree_provisioned|setup_step|shared|agent_attached|command_started|command_completed|cleaning|salvaged|worktree_removed|closed)|pty\.(spawned|stopped)|supervisor\.\w+|runtime\.reconciled)$/;

/**
 * `lanevisor demo`: the whole system on a throwaway repository, in about half a minute; with
 * `--repo`, on the user's own repository, which it leaves exactly as it found it.
 */
export function addDemoCommand(program: Command, io: CliIo): void {
  addInspectionOptions(program.command('demo'))
    .description(
      'show lanevisor at work on a throwaway repository (or on yours with --repo, left as it was): lanes, terminals, a crash and its restart, cleanup',
    )
    .option(
      '--repo <dir>',
      'run the lanes on this repository instead; everything the demo makes in it is removed again',
    )
    .option('--json', 'print the event stream as JSON lines, then a summary line')
    .addHelpText(
      'after',
      '\nExamples:\n  lanevisor demo\n  lanevisor demo --repo .\n  lanevisor demo --json | jq -c \'select(.topic == "supervisor.restarted")\'',
    )
    .action(async (flags: { repo?: string; json?: boolean; trace?: string; inspect?: boolean }) => {
      // It makes lanes, maybe in the user's repository: a stop must let it take them away again.
      const stop = new StopSignals(io, 'stopping the demo and removing what it made');
      const abort = new AbortController();
      stop.onStop(() => abort.abort());
      try {
        const inspection = await startInspection(flags, io);
        const options: DemoOptions = {
          ...inspection.options,
          ...(flags.trace ? { trace: flags.trace } : {}),
          ...(flags.repo === undefined ? {} : { repo: resolve(io.cwd ?? process.cwd(), flags.repo) }),
          signal: abort.signal,
        };
        try {
          const result = flags.json ? await runJson(io, options) : await runText(io, options);
          if (!result.checks.every((c) => c.ok)) throw new CliExit(EXIT_FAILURE);
        } finally {
          await inspection.close();
        }
      } catch (error) {
        if (stop.exitCode !== undefined) throw new CliExit(stop.exitCode);
        throw error;
      } finally {
        stop.dispose();
      }
      if (stop.exitCode !== undefined) throw new CliExit(stop.exitCode);
    });
}

async function runJson(io: CliIo, options: DemoOptions): Promise<DemoResult> {
  const result = await runDemo(
    { event: (event) => io.stdout(`${JSON.stringify(event)}\n`), step: () => undefined },
    options,
  );
  const ok = result.checks.every((c) => c.ok);
  io.stdout(`${JSON.stringify({ type: 'summary', ok, checks: result.checks, timings: result.timings })}\n`);
  return result;
}

async function runText(io: CliIo, options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  let current: { title: string; lanes: readonly Lane[] } = { title: 'starting', lanes: [] };
  const setup = new SetupProgress();
  const live = io.isTTY ? new LiveBlock(io.stdout) : undefined;
  const size = () => (live ? io.terminalSize?.() : undefined);
  const render = () => {
    const fit = size();
    const table = statusTable(
      rowsOf(current.lanes, started, setup),
      Date.now(),
      fit === undefined ? undefined : { ...fit, rows: fit.rows - 1 },
    );
    return current.lanes.length === 0 ? `== ${current.title}` : `== ${current.title}\n${table}`;
  };
  const redraw = () => live?.draw(render(), size()?.columns);
  const timer = live ? setInterval(redraw, LIVE_REFRESH_MS) : undefined;
  const stopResize = live ? io.onResize?.(redraw) : undefined;
  let result: DemoResult;
  try {
    result = await runDemo(
      {
        event: (event) => setup.observe(event),
        step: (title, lanes) => {
          current = { title, lanes };
          if (live) redraw();
          else io.stdout(`${render()}\n\n`);
        },
      },
      options,
    );
  } finally {
    if (timer) clearInterval(timer);
    stopResize?.();
  }
  io.stdout(`\n${timeline(result.events, started)}\n\n${summary(result)}`);
  return result;
}

function rowsOf(lanes: readonly Lane[], startedAt: number, setup: SetupProgress): StatusRow[] {
  return lanes.map((lane) => {
    const output = lane.ptys()[0]?.scrollback() ?? '';
    const lastLine =
      output
        .split('\n')
        .map(plainLine)
        .filter((line) => line.trim() !== '')
        .at(-1) ?? '';
    return { name: lane.label ?? lane.id, state: setup.stateOf(lane), ptys: lane.ptys().length, lastLine, startedAt };
  });
}

function timeline(events: readonly EventEnvelope[], started: number): string {
  const names = new Map<string, string>();
  for (const event of events) noteLaneName(names, event);
  const lines = events
    .filter((event) => TIMELINE.test(event.topic))
    .map((event) => `${`+${event.timestamp - started} ms`.padStart(10)}  ${describeEvent(event, names).slice(13)}`);
  return ['Timeline', ...lines].join('\n');
}

function summary(result: DemoResult): string {
  const timings = Object.entries(result.timings).map(([step, ms]) => `  ${`${ms} ms`.padStart(8)}  ${step}`);
  const checks = result.checks.map(
    (c: DemoCheck) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}${c.detail ? ` (${c.detail})` : ''}`,
  );
  const passed = result.checks.filter((c) => c.ok).length;
  return [
    'Timings',
    ...timings,
    '',
    'Checks',
    ...checks,
    '',
    `${passed} of ${result.checks.length} checks passed`,
    '',
  ].join('\n');
}
