import { afterEach, describe, expect, it } from 'vitest';
import { type Attached, HostViewer } from '../../../../actors/pty/host/host-viewer.js';
import { VIEWER_MAX_UNACKED_BYTES } from '../../../../actors/pty/host/viewer-link.js';
import { createRuntime } from '../../../../supervision/runtime/runtime.js';
import type { Runtime } from '../../../../supervision/runtime/types.js';
import { createTempRepo, type TempRepo } from '../../../support/git-repo.js';
import { type HeadlessTerminal, screenOf, Terminal, writeTo } from '../../../support/terminal-screen.js';
import { blockEventLoop, waitUntil } from '../../../support/wait.js';

/**
 * Several viewers of one terminal (`lanevisor attach` from several shells): each sees its output,
 * and one that cannot keep up slows neither the PTY, nor its runtime, nor the other viewers; it
 * gets a fresh screen once it caught up.
 */
let repo: TempRepo | undefined;
let rt: Runtime | undefined;
const viewers: HostViewer[] = [];
afterEach(async () => {
  for (const viewer of viewers.splice(0)) await viewer.close();
  await rt?.shutdown({ cleanupLanes: true });
  rt = undefined;
  repo?.dispose();
});

const FLOOD_LINES = 150_000;
const CALM_LINES = 2_000;

/** The numbers of whole `N` lines in `text`, in order. */
function numbersIn(text: string): number[] {
  return [...text.matchAll(/^(\d+)\r$/gm)].map((match) => Number(match[1]));
}

/** A viewer as `lanevisor attach` is one: what it got, drawn on a terminal of its own. */
interface Watcher {
  text: string;
  received: number;
  redraws: number;
  drawn: Promise<void>;
  terminal: HeadlessTerminal;
  attached: Attached;
}

async function watch(viewer: HostViewer, ptyId: string, keepUp: boolean): Promise<Watcher> {
  const terminal = new Terminal({ cols: 80, rows: 24, scrollback: 100, allowProposedApi: true });
  const watcher = { text: '', received: 0, redraws: 0, drawn: Promise.resolve(), terminal } as Watcher;
  const draw = (data: string) => {
    watcher.drawn = watcher.drawn.then(() => writeTo(terminal, data));
  };
  watcher.attached = await viewer.attach(
    ptyId,
    { readOnly: true },
    {
      output: (data) => {
        watcher.text += data;
        watcher.received += data.length;
        draw(data);
        if (keepUp) watcher.attached.shown(data.length);
      },
      redraw: (screen) => {
        watcher.redraws++;
        terminal.reset();
        draw(screen);
      },
      exited: () => undefined,
      lost: () => undefined,
    },
  );
  draw(watcher.attached.screen);
  return watcher;
}

/** A lane's PTY running `script` in a terminal host, in a fresh repository: what its runtime got, and viewers of it. */
async function hostedPty(script: string) {
  repo = createTempRepo();
  const runtime = await createRuntime({ repo: repo.path, pty: { host: 'process', terminateGraceMs: 500 } });
  rt = runtime;
  const lane = await runtime.createLane({ label: 'watched' });
  const pty = await lane.spawnPty({ command: 'bash', args: ['--norc', '--noprofile', '-c', script] });
  let printed = '';
  pty.onData((chunk) => {
    printed += chunk;
  });
  const connect = async () => {
    const viewer = await HostViewer.connect(runtime.stateDir);
    viewers.push(viewer);
    return viewer;
  };
  return { pty, printed: () => printed, connect };
}

/** The terminal's screen now, as a fresh terminal shows its snapshot. */
async function screenNow(snapshot: string) {
  const terminal = new Terminal({ cols: 80, rows: 24, scrollback: 100, allowProposedApi: true });
  await writeTo(terminal, snapshot);
  return screenOf(terminal);
}

describe('viewers of a hosted terminal', () => {
  it('each sees its output; one that does not keep up slows nobody and is redrawn from a snapshot when it catches up', async () => {
    // Prints a little, then floods when told; stays alive after so its screen can be read.
    const script = `read; seq 1 ${CALM_LINES}; echo calm-done; read; seq 1 ${FLOOD_LINES}; echo flood-done; exec sleep 600`;
    const { pty, printed: runtimeText, connect } = await hostedPty(script);
    const connections = await Promise.all([1, 2, 3].map(connect));
    const [first, second, slow] = [
      await watch(connections[0] as HostViewer, pty.id, true),
      await watch(connections[1] as HostViewer, pty.id, true),
      await watch(connections[2] as HostViewer, pty.id, false),
    ];

    // Within its bound, every viewer gets every byte, the one that never acknowledges too.
    pty.write('\r');
    const calm = Array.from({ length: CALM_LINES }, (_, i) => i + 1);
    for (const watcher of [first, second, slow]) {
      await waitUntil(() => watcher.text.includes('calm-done'), 'every viewer to see the calm part');
      expect(numbersIn(watcher.text)).toEqual(calm);
    }

    // A flood: the runtime reads every byte and the PTY runs to its end while the slow viewer is left behind.
    pty.write('\r');
    await waitUntil(() => runtimeText().includes('flood-done'), 'the runtime to read the whole flood', 20_000);
    expect(numbersIn(runtimeText())).toEqual([...calm, ...Array.from({ length: FLOOD_LINES }, (_, i) => i + 1)]);
    expect(slow.received).toBeLessThan(VIEWER_MAX_UNACKED_BYTES + 70_000);
    expect(slow.text).not.toContain('flood-done');
    expect(slow.redraws).toBe(0);

    // The viewers that keep up show the terminal as it is: from its output, or a fresh screen if they lagged.
    const now = await screenNow(await pty.snapshot());
    expect(now.lines.join('\n')).toContain('flood-done');
    for (const watcher of [first, second]) {
      await waitUntil(() => watcher.text.includes('flood-done') || watcher.redraws > 0, 'a viewer to catch up', 20_000);
      await waitUntil(() => screenOf(watcher.terminal).lines.join('\n').includes('flood-done'), 'its screen', 20_000);
      await watcher.drawn;
      expect(screenOf(watcher.terminal).lines).toEqual(now.lines);
    }

    // The slow one, once it showed what it got: a fresh screen, not the backlog it missed.
    slow.attached.shown(slow.received);
    await waitUntil(() => slow.redraws === 1, 'the slow viewer to be redrawn');
    await slow.drawn;
    expect(screenOf(slow.terminal).lines).toEqual(now.lines);
    expect(slow.text).not.toContain('flood-done');
  }, 60_000);

  it('gets characters split between reads whole, and acknowledges in bytes: one that keeps up stays live far past its bound', async () => {
    // A unit is 11 bytes and 5 UTF-16 units: a write of 400 is read as 4,095 bytes and the rest, a
    // character cut in two; and acknowledged in characters, what is shown would fall behind its bytes.
    const unit = 'é€😀ü';
    const writes = 100;
    const perWrite = 400;
    const script = `read; w=$(yes '${unit}' | head -n ${perWrite} | tr -d '\\n'); for i in $(seq 1 ${writes}); do printf '%s' "$w"; sleep 0.005; done; echo; echo flood-done; exec sleep 600`;
    const { pty, connect } = await hostedPty(script);
    const watcher = await watch(await connect(), pty.id, true);
    pty.write('\r');
    await waitUntil(
      () => watcher.text.includes('flood-done') || watcher.redraws > 0,
      'the viewer to see it all',
      20_000,
    );
    expect(Buffer.byteLength(unit) * perWrite * writes).toBeGreaterThan(VIEWER_MAX_UNACKED_BYTES * 4);
    expect(watcher.redraws).toBe(0);
    expect(watcher.text).not.toContain('\uFFFD');
    expect(watcher.text).toContain(unit.repeat(perWrite * writes));
  });

  it('gets a character whole whose first bytes came before its attach and its rest after', async () => {
    // The first two bytes of '€' (e2 82 ac), then, once told, the last one.
    const script = "stty -echo; printf 'ab\\342\\202'; read; printf '\\254A'; exec sleep 600";
    const { pty, printed, connect } = await hostedPty(script);
    // 'ab' came in the read that held the first bytes of '€' too.
    await waitUntil(() => printed() === 'ab', 'the first bytes');
    const watcher = await watch(await connect(), pty.id, true);
    pty.write('\r');
    await waitUntil(() => watcher.text.includes('A'), 'the rest');
    expect(watcher.text).toBe('€A');
    await watcher.drawn;
    expect(screenOf(watcher.terminal).lines[0]).toBe('ab€A');
    expect(printed()).toContain('€A');
  });

  it('misses nothing of the output that arrives together with the reply to its attach', async () => {
    const script = 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.005; done';
    const { pty, printed, connect } = await hostedPty(script);
    await waitUntil(() => printed().includes('3\r\n'), 'the first lines');
    const viewer = await connect();
    let text = '';
    let attachedYet = false;
    let beforeAttached = 0;
    const attaching = viewer.attach(
      pty.id,
      { readOnly: true },
      {
        output: (data) => {
          // Drawn before the screen, it would be cleared with it.
          if (!attachedYet) beforeAttached++;
          text += data;
        },
        redraw: () => undefined,
        exited: () => undefined,
        lost: () => undefined,
      },
    );
    // The reply, its snapshot and the lines printed meanwhile land in one read.
    setImmediate(() => blockEventLoop(300));
    const attached = await attaching;
    attachedYet = true;
    await waitUntil(() => numbersIn(text).length > 80, 'live lines');
    expect(beforeAttached).toBe(0);
    // The snapshot's last line may end in cursor moves rather than a line break.
    const cursorMoves = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');
    const shown = numbersIn(`${attached.screen}${text}`.replace(cursorMoves, '\r\n'));
    const first = shown[0] as number;
    expect(shown).toEqual(Array.from({ length: shown.length }, (_, i) => first + i));
  });
});
