import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { incompleteTail, streamTail, Utf8Pieces } from '../../../actors/pty/utf8-pieces.js';

/** Bytes cut at the given points (sorted, deduplicated, inside the buffer). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((point) => point % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of [...at, bytes.byteLength]) {
    pieces.push(bytes.subarray(from, point));
    from = point;
  }
  return pieces;
}

/** Text with characters of every length (and, from the bytes arbitrary, sequences that are not UTF-8). */
const textBytes = fc.oneof(
  fc.string({ unit: 'binary' }).map((text) => Buffer.from(text, 'utf8')),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

describe('UTF-8 decoded piece by piece', () => {
  it('gives the text of the whole, however the bytes are cut, and holds back only what begins a character', () => {
    fc.assert(
      fc.property(textBytes, fc.array(fc.nat(), { maxLength: 12 }), (bytes, points) => {
        const pieces = new Utf8Pieces();
        let text = '';
        let received = 0;
        let decoded = 0;
        for (const piece of cut(bytes, points)) {
          text += pieces.write(piece);
          decoded += pieces.decodedBytes;
          received += piece.byteLength;
          // Offsets count what the text came from: the bytes received but those held back.
          expect(decoded).toBe(received - pieces.heldBytes);
          // What is held is the unfinished end of what came, never more than a character's start.
          expect(pieces.heldBytes).toBeLessThanOrEqual(3);
          expect(pieces.heldBytes).toBe(incompleteTail(bytes.subarray(0, received)));
        }
        expect(text + pieces.end()).toBe(bytes.toString('utf8'));
        expect(decoded + pieces.decodedBytes).toBe(bytes.byteLength);
        expect(pieces.heldBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('delivers a character split between two reads whole, with the second', () => {
    const euro = Buffer.from('a€b', 'utf8');
    const pieces = new Utf8Pieces();
    expect(pieces.write(euro.subarray(0, 2))).toBe('a');
    expect(pieces.heldBytes).toBe(1);
    expect(pieces.write(euro.subarray(2, 3))).toBe('');
    expect(pieces.heldBytes).toBe(2);
    expect(pieces.write(euro.subarray(3))).toBe('€b');
    expect(pieces.heldBytes).toBe(0);
  });

  it('shows a character the stream ended in the middle of as U+FFFD', () => {
    const pieces = new Utf8Pieces();
    expect(pieces.write(Buffer.from([0x41, 0xf0, 0x9f]))).toBe('A');
    expect(pieces.end()).toBe('\ufffd');
  });

  it("keeps a stream's last bytes across reads shorter than a character", () => {
    fc.assert(
      fc.property(textBytes, fc.array(fc.nat(), { maxLength: 12 }), (bytes, points) => {
        let tail: Uint8Array = new Uint8Array(0);
        for (const piece of cut(bytes, points)) tail = streamTail(tail, piece);
        expect(incompleteTail(tail)).toBe(incompleteTail(bytes));
        expect(Buffer.from(tail).equals(bytes.subarray(Math.max(0, bytes.byteLength - 3)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
