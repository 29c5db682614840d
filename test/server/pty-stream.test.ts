import { afterEach, describe, expect, it } from 'vitest';
import type { LaneView, PtyInfo } from '../../index.js';
import { BASH_PTY } from '../support/runtime-fixture.js';
import { waitUntil } from '../support/wait.js';
import { postJson, type Served, startServed } from './harness.js';
import { openViewer, type Viewer } from './ws-client.js';

/** WebSocket /api/ptys/:ptyId/stream: snapshot, output, exit; input, resize, ack; flow control. */
let served: Served | undefined;
const viewers: Viewer[] = [];
afterEach(async () => {
  for (const viewer of viewers.splice(0)) viewer.ws.terminate();
  await served?.dispose();
  served = undefined;
});

async function spawn(options: object): Promise<PtyInfo> {
  const current = served as Served;
  const lane = (await (await current.api('/api/lanes', postJson({}))).json()) as LaneView;
  return (await (await current.api(`/api/lanes/${lane.id}/ptys`, postJson(options))).json()) as PtyInfo;
}

async function view(ptyId: string, autoAck = false): Promise<Viewer> {
  const viewer = await openViewer((served as Served).server, ptyId, autoAck);
  viewers.push(viewer);
  return viewer;
}

describe('the terminal stream', () => {
  it('sends a snapshot, carries input and resize, and ends with an exit frame', async () => {
    served = await startServed();
    const pty = await spawn(BASH_PTY);
    const viewer = await view(pty.id);
    await waitUntil(() => viewer.frames.length > 0, 'the snapshot');
    expect(viewer.frames[0]).toMatchObject({ type: 'snapshot', cols: 80, rows: 24 });

    viewer.send({ type: 'input', data: 'echo hi-$((6*7))\r' });
    await waitUntil(() => viewer.output().includes('hi-42'), 'the echo');

    viewer.send({ type: 'resize', cols: 101, rows: 33 });
    await waitUntil(() => served?.fixture.rt.getPty(pty.id)?.cols === 101, 'the resize');
    viewer.send({ type: 'input', data: 'stty size\r' });
    await waitUntil(() => viewer.output().includes('33 101'), 'stty size');

    viewer.send({ type: 'input', data: 'exit 3\r' });
    await viewer.closed;
    expect(viewer.frames.at(-1)).toEqual({ type: 'exit', exitCode: 3, signal: null });
  });

  it('answers bad frames with an error frame and keeps the stream open', async () => {
    served = await startServed();
    const pty = await spawn(BASH_PTY);
    const viewer = await view(pty.id);
    await waitUntil(() => viewer.frames.length > 0, 'the snapshot');
    viewer.send('not json');
    viewer.send({ type: 'launch' });
    viewer.send({ type: 'resize', cols: 0, rows: 10 });
    viewer.send({ type: 'input', data: 42 });
    await waitUntil(() => viewer.frames.filter((frame) => frame.type === 'error').length === 4, 'four errors');
    for (const frame of viewer.frames.filter((one) => one.type === 'error')) {
      expect(frame).toMatchObject({ type: 'error', error: { code: 'VALIDATION_ERROR' } });
    }
    viewer.send({ type: 'input', data: 'echo still-$((1+1))\r' });
    await waitUntil(() => viewer.output().includes('still-2'), 'the stream still works');
  });

  it('a viewer that never acks stops at 100,000 chars while another viewer and pty.output() get everything; its ack brings a snapshot', async () => {
    served = await startServed();
    const BATCHES = 30;
    const WIDTH = 5000;
    // Batches with pauses, so that the acking viewer never has 100,000 chars in flight.
    const script = `read go; for i in $(seq 1 ${BATCHES}); do head -c ${WIDTH} /dev/zero | tr '\\0' x; echo; sleep 0.02; done; echo DONE-MARK; exec sleep 600`;
    const pty = await spawn({ command: 'bash', args: ['--norc', '--noprofile', '-c', script] });
    const handle = served.fixture.rt.getPty(pty.id);
    if (handle === undefined) throw new Error('no pty');
    let pulled = '';
    void (async () => {
      for await (const chunk of handle.output()) {
        pulled += chunk;
        if (pulled.includes('DONE-MARK')) return;
      }
    })();
    const slow = await view(pty.id);
    const fast = await view(pty.id, true);
    await waitUntil(() => slow.frames.length > 0 && fast.frames.length > 0, 'both snapshots');

    handle.write('\r');
    await waitUntil(() => fast.output().includes('DONE-MARK'), 'everything at the acking viewer', 20_000);
    await waitUntil(() => pulled.includes('DONE-MARK'), 'everything at pty.output()');
    const xs = (text: string) => text.split('').filter((c) => c === 'x').length;
    expect(xs(fast.output())).toBe(BATCHES * WIDTH);
    expect(xs(pulled)).toBe(BATCHES * WIDTH);
    expect(slow.output().length).toBeLessThanOrEqual(100_000);
    expect(slow.output().length).toBeGreaterThan(50_000);
    expect(slow.output()).not.toContain('DONE-MARK');

    const before = slow.frames.length;
    slow.send({ type: 'ack', chars: slow.output().length });
    await waitUntil(() => slow.frames.length > before, 'the redraw');
    expect(slow.frames[before]?.type).toBe('snapshot');
  });
});
