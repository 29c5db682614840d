import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PtySessionEvents, PtyStartRequest } from '../../../../actors/pty/backend.js';
import { FrameDecoder, FrameKind } from '../../../../actors/pty/host/framing.js';
import { HostSession } from '../../../../actors/pty/host/host-session.js';

/**
 * The runtime's side of a hosted PTY, fed output frames as the host sends them (the bytes of a
 * terminal's reads, a character now and then cut between two frames). A socket that records
 * what the session writes stands in for the host: what is checked is what it acknowledges.
 */
function sessionFrom(fromOffset: number) {
  const written: Buffer[] = [];
  const socket = {
    destroyed: false,
    write: (frame: Buffer) => {
      written.push(frame);
      return true;
    },
  } as unknown as Socket;
  let text = '';
  const events: PtySessionEvents = {
    data: (chunk) => {
      text += chunk;
    },
    exited: () => undefined,
    treeGone: () => undefined,
    signaled: () => undefined,
    lost: () => undefined,
  };
  const request = { ptyId: 'pty_test', maxPendingInputBytes: 1 << 20 } as PtyStartRequest;
  const started = { pid: 1, pgid: 1, sid: 1, startTime: 0, ptsName: '/dev/pts/0', file: '/bin/sh' };
  const session = new HostSession(socket, 1, request, started, events, fromOffset, {
    snapshot: async () => ({ data: '', cols: 80, rows: 24, offset: 0 }),
    closed: () => undefined,
  });
  const acknowledged = () =>
    new FrameDecoder()
      .push(Buffer.concat(written))
      .flatMap((frame) => (frame.kind === FrameKind.CONTROL ? [frame.message as { t: string; offset?: number }] : []))
      .filter((message) => message.t === 'ack')
      .map((message) => message.offset);
  return { session, text: () => text, acknowledged };
}

describe("a hosted PTY's output in its runtime", () => {
  const bytes = Buffer.from('ab€c😀', 'utf8');

  it('delivers a character cut between two frames whole and acknowledges only whole characters', () => {
    const { session, text, acknowledged } = sessionFrom(0);
    // 'ab' and the first byte of '€'.
    session.output(0, bytes.subarray(0, 3));
    expect(text()).toBe('ab');
    expect(session.outputOffset).toBe(2);
    // It leaves (keeping the PTY for the next runtime): that one must start on the first byte of '€'.
    session.release();
    expect(acknowledged()).toEqual([2]);
  });

  it('a runtime adopting from that offset gets the character whole, and a batch sent again is cut where it was', () => {
    const { session, text, acknowledged } = sessionFrom(2);
    // The host hands over the read that holds offset 2 whole, from its own start.
    session.output(0, bytes.subarray(0, 5));
    expect(text()).toBe('€');
    session.output(3, bytes.subarray(3, bytes.byteLength));
    expect(text()).toBe('€c😀');
    expect(session.outputOffset).toBe(bytes.byteLength);
    session.release();
    expect(acknowledged()).toEqual([bytes.byteLength]);
  });

  it('shows a character the program never finished as U+FFFD when it exits', () => {
    const { session, text, acknowledged } = sessionFrom(0);
    session.output(0, bytes.subarray(0, 7));
    expect(text()).toBe('ab€c');
    session.notice({ t: 'exited', channel: 1, exit: { exitCode: 0, signal: null } });
    expect(text()).toBe('ab€c\ufffd');
    expect(acknowledged()).toEqual([7]);
  });
});
