import type { Writable } from 'node:stream';

/**
 * The terminal host's wire format: length-prefixed binary frames on a local socket, each written
 * with one system call (two writes per frame cost half the throughput, see pty-host-facts.md).
 * A frame is a 4-byte big-endian length of what follows, a 1-byte kind, then the payload:
 * - `CONTROL`: one JSON message (requests, replies, notices);
 * - `OUTPUT`: a PTY's output, `[u32 channel][f64 offset of its first byte][bytes as read]` (UTF-8
 *   whose characters may be split between two frames);
 * - `INPUT`: keystrokes for a PTY, `[u32 channel][bytes]`.
 * A channel is a small number the host gives each PTY per connection, so the hot frames carry no id.
 */
export const FRAME_HEADER_BYTES = 5;
/** A frame longer than this is refused and the connection closed: nobody sends one honestly. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export const FrameKind = { CONTROL: 1, OUTPUT: 2, INPUT: 3 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export type Frame =
  | { readonly kind: typeof FrameKind.CONTROL; readonly message: unknown }
  | { readonly kind: typeof FrameKind.OUTPUT; readonly channel: number; readonly offset: number; readonly data: Buffer }
  | { readonly kind: typeof FrameKind.INPUT; readonly channel: number; readonly data: Buffer };

export class FrameError extends Error {}

export function encodeControl(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.byteLength);
  frame.writeUInt32BE(body.byteLength + 1, 0);
  frame.writeUInt8(FrameKind.CONTROL, 4);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

const OUTPUT_HEADER_BYTES = FRAME_HEADER_BYTES + 12;

function outputHeader(frame: Buffer, channel: number, offset: number, length: number): Buffer {
  frame.writeUInt32BE(OUTPUT_HEADER_BYTES - 4 + length, 0);
  frame.writeUInt8(FrameKind.OUTPUT, 4);
  frame.writeUInt32BE(channel, 5);
  frame.writeDoubleBE(offset, 9);
  return frame;
}

export function encodeOutput(channel: number, offset: number, data: Uint8Array): Buffer {
  const frame = outputHeader(
    Buffer.allocUnsafe(OUTPUT_HEADER_BYTES + data.byteLength),
    channel,
    offset,
    data.byteLength,
  );
  frame.set(data, OUTPUT_HEADER_BYTES);
  return frame;
}

/**
 * One output frame made of a PTY's reads as they are. Several (a flood's window) go to the kernel
 * in one `writev`, so nothing is copied or allocated for them (joining them was a copy of every
 * byte and a 64 KiB allocation per frame); a single read (an echo) is copied behind its header
 * and written as one buffer, as the echo path was measured.
 */
export function writeOutputFrame(
  socket: Writable,
  channel: number,
  offset: number,
  chunks: readonly Uint8Array[],
  bytes: number,
): void {
  if (chunks.length === 1) {
    socket.write(encodeOutput(channel, offset, chunks[0] as Uint8Array));
    return;
  }
  socket.cork();
  socket.write(outputHeader(Buffer.allocUnsafe(OUTPUT_HEADER_BYTES), channel, offset, bytes));
  for (const chunk of chunks) socket.write(chunk);
  socket.uncork();
}

export function encodeInput(channel: number, data: string | Uint8Array): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4 + bytes.byteLength);
  frame.writeUInt32BE(5 + bytes.byteLength, 0);
  frame.writeUInt8(FrameKind.INPUT, 4);
  frame.writeUInt32BE(channel, 5);
  frame.set(bytes, 9);
  return frame;
}

/**
 * Turns a byte stream into frames; throws FrameError for one that is too long or malformed. A
 * frame that lies whole in one read is a view of it; one that spans reads (a flood's 64 KiB frame
 * and the socket's 64 KiB reads never line up) is copied once into a buffer of its own size, as
 * its bytes come: joining the reads at each frame copied a flood twice and allocated 128 KiB a
 * frame.
 */
export class FrameDecoder {
  /** The start of a frame whose 4-byte length has not all come yet. */
  #lengthBytes = Buffer.alloc(4);
  #lengthFilled = 0;
  /** The frame spanning reads, as far as it has come. */
  #frame: Buffer | undefined;
  #frameFilled = 0;

  /** The longest frame taken; a server raises it once the peer has proved who it is. */
  constructor(public maxFrameBytes = MAX_FRAME_BYTES) {}

  /** The frames completed by `chunk`, in order. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#frame !== undefined) {
        const taken = chunk.copy(this.#frame, this.#frameFilled, at);
        this.#frameFilled += taken;
        at += taken;
        if (this.#frameFilled < this.#frame.byteLength) return frames;
        frames.push(parseFrame(this.#frame));
        this.#frame = undefined;
        continue;
      }
      if (this.#lengthFilled === 0 && chunk.byteLength - at >= 4) {
        const size = 4 + this.#checkedLength(chunk.readUInt32BE(at));
        if (chunk.byteLength - at >= size) {
          frames.push(parseFrame(chunk.subarray(at, at + size)));
          at += size;
        } else {
          this.#begin(size, chunk.subarray(at, at + 4));
          at += 4;
        }
        continue;
      }
      const taken = chunk.copy(this.#lengthBytes, this.#lengthFilled, at, at + 4 - this.#lengthFilled);
      this.#lengthFilled += taken;
      at += taken;
      if (this.#lengthFilled < 4) return frames;
      this.#lengthFilled = 0;
      this.#begin(4 + this.#checkedLength(this.#lengthBytes.readUInt32BE(0)), this.#lengthBytes);
    }
    return frames;
  }

  #checkedLength(length: number): number {
    if (length < 1 || length > this.maxFrameBytes) {
      throw new FrameError(`a frame of ${length} bytes (the most is ${this.maxFrameBytes})`);
    }
    return length;
  }

  /** A frame of `size` bytes, of which its 4-byte length has come. */
  #begin(size: number, length: Uint8Array): void {
    this.#frame = Buffer.allocUnsafe(size);
    this.#frame.set(length, 0);
    this.#frameFilled = 4;
  }
}

function parseFrame(frame: Buffer): Frame {
  const kind = frame.readUInt8(4);
  switch (kind) {
    case FrameKind.CONTROL: {
      try {
        return { kind, message: JSON.parse(frame.subarray(FRAME_HEADER_BYTES).toString('utf8')) };
      } catch {
        throw new FrameError('a control frame that is not JSON');
      }
    }
    case FrameKind.OUTPUT:
      if (frame.byteLength < 17) throw new FrameError('an output frame too short for its header');
      return { kind, channel: frame.readUInt32BE(5), offset: frame.readDoubleBE(9), data: frame.subarray(17) };
    case FrameKind.INPUT:
      if (frame.byteLength < 9) throw new FrameError('an input frame too short for its header');
      return { kind, channel: frame.readUInt32BE(5), data: frame.subarray(9) };
    default:
      throw new FrameError(`a frame of unknown kind ${kind}`);
  }
}
