import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeControl,
  encodeInput,
  encodeOutput,
  type Frame,
  FrameDecoder,
  FrameError,
  FrameKind,
  writeOutputFrame,
} from '../../../../actors/pty/host/framing.js';

/**
 * The wire between the terminal host and its clients: whatever frames are sent, however the
 * socket cuts the stream into reads (a length cut in the middle, a 64 KiB frame over two reads,
 * many frames in one), the decoder gives back the same frames in order, and refuses what no
 * honest peer sends.
 */
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((array) => Buffer.from(array));

const sentFrame = fc.oneof(
  fc.record({ kind: fc.constant(FrameKind.CONTROL), message: fc.dictionary(fc.string(), fc.string()) }),
  fc.record({
    kind: fc.constant(FrameKind.OUTPUT),
    channel: fc.nat(),
    offset: fc.nat(),
    data: fc.oneof(bytes(64), bytes(70_000)),
  }),
  fc.record({ kind: fc.constant(FrameKind.INPUT), channel: fc.nat(), data: bytes(64) }),
);

function encoded(frame: Frame): Buffer {
  switch (frame.kind) {
    case FrameKind.CONTROL:
      return encodeControl(frame.message);
    case FrameKind.OUTPUT:
      return encodeOutput(frame.channel, frame.offset, frame.data);
    case FrameKind.INPUT:
      return encodeInput(frame.channel, frame.data);
  }
}

/** `stream` cut at `cuts` (positions, any order, repeats allowed), as reads. */
function reads(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((cut) => cut % (stream.byteLength + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const to of [...at, stream.byteLength]) {
    // A fresh buffer per read, as a socket gives: nothing may point into an earlier one by luck.
    if (to > from) pieces.push(Buffer.from(stream.subarray(from, to)));
    from = to;
  }
  return pieces;
}

function comparable(frame: Frame): unknown {
  return frame.kind === FrameKind.CONTROL ? frame : { ...frame, data: Buffer.from(frame.data).toString('hex') };
}

describe('FrameDecoder', () => {
  it('gives back the frames sent, in order, however the stream is cut into reads', () => {
    fc.assert(
      fc.property(fc.array(sentFrame, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((frame) => encoded(frame as Frame)));
        const decoder = new FrameDecoder();
        const received = reads(stream, cuts).flatMap((read) => decoder.push(read));
        expect(received.map(comparable)).toEqual(frames.map((frame) => comparable(frame as Frame)));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a frame that spans reads intact after the reads are reused', () => {
    const data = Buffer.alloc(65_536 + 100, 'x');
    const stream = encodeOutput(3, 42, data);
    const decoder = new FrameDecoder();
    const read = Buffer.alloc(65_536);
    const frames: Frame[] = [];
    for (let from = 0; from < stream.byteLength; from += read.byteLength) {
      const length = stream.copy(read, 0, from);
      frames.push(...decoder.push(read.subarray(0, length)));
      // The socket's next read overwrites this one's buffer.
      read.fill('!');
    }
    expect(frames).toHaveLength(1);
    const [frame] = frames;
    expect(frame?.kind === FrameKind.OUTPUT && frame.data.equals(data)).toBe(true);
  });

  it("decodes what writeOutputFrame writes of a window's reads as one frame", () => {
    const written: Buffer[] = [];
    const socket = {
      cork: () => undefined,
      uncork: () => undefined,
      write: (chunk: Buffer) => written.push(Buffer.from(chunk)),
    } as unknown as import('node:stream').Writable;
    const chunks = [Buffer.from('first '), Buffer.from('second '), Buffer.from('third')];
    writeOutputFrame(socket, 7, 1_000, chunks, 18);
    const frames = new FrameDecoder().push(Buffer.concat(written));
    expect(frames).toEqual([
      { kind: FrameKind.OUTPUT, channel: 7, offset: 1_000, data: Buffer.from('first second third') },
    ]);
  });

  it('refuses a frame longer than its bound before taking its bytes, even with its length cut in two', () => {
    const decoder = new FrameDecoder(1_024);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(1_025);
    expect(decoder.push(length.subarray(0, 2))).toEqual([]);
    expect(() => decoder.push(length.subarray(2))).toThrow(FrameError);
    expect(() => new FrameDecoder(1_024).push(length)).toThrow(/1025 bytes \(the most is 1024\)/);
  });

  it('refuses an empty frame, an unknown kind, a control frame that is not JSON and short headers', () => {
    const frame = (kind: number, body: Buffer) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(body.byteLength + 1);
      head.writeUInt8(kind, 4);
      return Buffer.concat([head, body]);
    };
    expect(() => new FrameDecoder().push(Buffer.alloc(4))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(frame(9, Buffer.alloc(3)))).toThrow(/unknown kind 9/);
    expect(() => new FrameDecoder().push(frame(FrameKind.CONTROL, Buffer.from('{nope')))).toThrow(/not JSON/);
    expect(() => new FrameDecoder().push(frame(FrameKind.OUTPUT, Buffer.alloc(5)))).toThrow(/too short/);
    expect(() => new FrameDecoder().push(frame(FrameKind.INPUT, Buffer.alloc(2)))).toThrow(/too short/);
  });
});
