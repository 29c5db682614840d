/**
 * UTF-8 that arrives in pieces (a terminal's reads, a host's frames), decoded piece by piece: a
 * character split between two pieces comes out whole with the second. Unlike StringDecoder it says
 * how many bytes it holds back, so whoever acknowledges what it received can acknowledge only whole
 * characters, and a reader that takes over from that offset starts on a character's first byte.
 */
export class Utf8Pieces {
  #held: Buffer | undefined;
  #decodedBytes = 0;

  /** Bytes received and not decoded yet: the start of a character whose rest has not come. */
  get heldBytes(): number {
    return this.#held?.byteLength ?? 0;
  }

  /**
   * The bytes the text last returned came from. Not its UTF-8 length where the output is not
   * UTF-8 (an invalid byte becomes U+FFFD, three bytes): offsets are counted in these.
   */
  get decodedBytes(): number {
    return this.#decodedBytes;
  }

  /** The text of every whole character so far not returned yet (possibly empty). */
  write(piece: Uint8Array): string {
    const bytes =
      this.#held === undefined
        ? Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
        : Buffer.concat([this.#held, piece]);
    const whole = bytes.byteLength - incompleteTail(bytes);
    this.#held = whole < bytes.byteLength ? Buffer.from(bytes.subarray(whole)) : undefined;
    this.#decodedBytes = whole;
    return bytes.toString('utf8', 0, whole);
  }

  /** What is held back, decoded as it is (an unfinished character becomes U+FFFD): the stream ended. */
  end(): string {
    const rest = this.#held?.toString('utf8') ?? '';
    this.#decodedBytes = this.heldBytes;
    this.#held = undefined;
    return rest;
  }
}

/** The longest a UTF-8 character is. */
const MAX_CHARACTER_BYTES = 4;
/** All `incompleteTail` looks at. */
const TAIL_BYTES = MAX_CHARACTER_BYTES - 1;

/** A stream's last bytes, enough for `incompleteTail`, after `chunk` followed those of before. */
export function streamTail(before: Uint8Array, chunk: Uint8Array): Uint8Array {
  if (chunk.byteLength >= TAIL_BYTES) return chunk.subarray(chunk.byteLength - TAIL_BYTES);
  const joined = Buffer.concat([before, chunk]);
  return joined.subarray(Math.max(0, joined.byteLength - TAIL_BYTES));
}

/**
 * How many bytes at the end of `bytes` begin a character that needs more: 0 when it ends on a
 * character's last byte (or on bytes that cannot become one, which decode as U+FFFD at once).
 */
export function incompleteTail(bytes: Uint8Array): number {
  const length = bytes.byteLength;
  for (let back = 1; back <= TAIL_BYTES && back <= length; back++) {
    const byte = bytes[length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    return sequenceLength(byte) > back ? back : 0;
  }
  return 0;
}

/** The length of the character a lead byte starts; 1 for ASCII and for bytes that start none. */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}
