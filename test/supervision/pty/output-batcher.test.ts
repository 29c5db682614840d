import { describe, expect, it } from 'vitest';
import {
  OUTPUT_BATCH_MAX_CHARS,
  OUTPUT_BATCH_MS,
  type OutputBatch,
  OutputBatcher,
} from '../../../supervision/pty/output-batcher.js';
import { sleep } from '../../support/wait.js';

describe('pty.output batches', () => {
  it('stay within their bound when the chunks are big (a terminal host’s frames), with exact offsets', async () => {
    const batches: OutputBatch[] = [];
    const batcher = new OutputBatcher((batch) => batches.push(batch), 10);
    const chunk = (n: number) => String.fromCharCode(97 + n).repeat(64 * 1024 + 1000);
    for (let n = 0; n < 5; n++) batcher.add(chunk(n), chunk(n).length);
    await sleep(OUTPUT_BATCH_MS * 4);
    expect(batches.every((batch) => batch.data.length <= OUTPUT_BATCH_MAX_CHARS)).toBe(true);
    expect(batches.map((batch) => batch.data).join('')).toBe([0, 1, 2, 3, 4].map(chunk).join(''));
    let offset = 10;
    for (const batch of batches) {
      expect(batch.offset).toBe(offset);
      expect(batch.bytes).toBe(batch.data.length);
      offset += batch.bytes;
    }
  });

  it('joins small chunks until the time is up', async () => {
    const batches: OutputBatch[] = [];
    const batcher = new OutputBatcher((batch) => batches.push(batch));
    batcher.add('ab', 2);
    batcher.add('é', 2);
    expect(batches).toEqual([]);
    await sleep(OUTPUT_BATCH_MS * 4);
    expect(batches).toEqual([{ data: 'abé', offset: 0, bytes: 4 }]);
  });
});
