import { describe, expect, it } from 'vitest';
import {
  OUTPUT_FRAME_MAX_BYTES,
  OUTPUT_WINDOW_MS,
  OUTPUT_WINDOW_OPEN_BYTES,
  OutputWindow,
} from '../../../../actors/pty/host/output-window.js';
import { sleep } from '../../../support/wait.js';

/** Frames as text, each checked to say its length right (the header is written before the reads). */
function recorder() {
  const frames: Array<{ offset: number; data: string }> = [];
  const window = new OutputWindow((offset, chunks, bytes) => {
    const data = Buffer.concat(chunks);
    expect(bytes).toBe(data.byteLength);
    frames.push({ offset, data: data.toString('utf8') });
  });
  return { frames, window, push: (offset: number, text: string) => window.push(offset, Buffer.from(text)) };
}

describe("a PTY's output on its way to its runtime", () => {
  it('sends a little output at once, each time: an echo never waits for a timer', () => {
    const { frames, window, push } = recorder();
    push(0, 'a');
    push(1, 'b');
    expect(frames).toEqual([
      { offset: 0, data: 'a' },
      { offset: 1, data: 'b' },
    ]);
    window.stop();
  });

  it('joins what follows heavy output for a window, keeps the window open while output comes, and offsets stay exact', async () => {
    const { frames, window, push } = recorder();
    const heavy = 'x'.repeat(OUTPUT_WINDOW_OPEN_BYTES);
    push(0, heavy);
    push(heavy.length, 'y');
    push(heavy.length + 1, 'z');
    expect(frames).toEqual([{ offset: 0, data: heavy }]);
    await sleep(OUTPUT_WINDOW_MS * 3);
    expect(frames[1]).toEqual({ offset: heavy.length, data: 'yz' });
    // The window closed with nothing left in it: small output goes at once again.
    await sleep(OUTPUT_WINDOW_MS * 3);
    push(heavy.length + 2, 'q');
    expect(frames.at(-1)).toEqual({ offset: heavy.length + 2, data: 'q' });
    window.stop();
  });

  it("opens the window for a flood of reads each under the threshold (a terminal's reads are at most 4,095 bytes)", async () => {
    const { frames, window, push } = recorder();
    const read = 'r'.repeat(OUTPUT_WINDOW_OPEN_BYTES - 1);
    for (let n = 0; n < 8; n++) push(n * read.length, read);
    // The first two went out as they came (the second made it heavy); the rest wait for the window, joined.
    expect(frames.map((f) => f.data.length)).toEqual([read.length, read.length]);
    await sleep(OUTPUT_WINDOW_MS * 3);
    expect(frames.map((f) => f.data.length)).toEqual([read.length, read.length, read.length * 6]);
    expect(frames.map((f) => f.offset)).toEqual([0, read.length, read.length * 2]);
    window.stop();
  });

  it('sends a full frame without waiting for the window, and flush sends what waits', () => {
    const { frames, window, push } = recorder();
    push(0, 'x'.repeat(OUTPUT_WINDOW_OPEN_BYTES));
    const big = 'b'.repeat(OUTPUT_FRAME_MAX_BYTES);
    push(OUTPUT_WINDOW_OPEN_BYTES, big);
    expect(frames.map((f) => f.data.length)).toEqual([OUTPUT_WINDOW_OPEN_BYTES, OUTPUT_FRAME_MAX_BYTES]);
    push(OUTPUT_WINDOW_OPEN_BYTES + big.length, 'tail');
    window.flush();
    expect(frames.at(-1)).toEqual({ offset: OUTPUT_WINDOW_OPEN_BYTES + big.length, data: 'tail' });
    expect(frames.map((f) => f.data).join('')).toBe(`${'x'.repeat(OUTPUT_WINDOW_OPEN_BYTES)}${big}tail`);
  });
});
