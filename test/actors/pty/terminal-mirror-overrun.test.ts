import headlessPackage from '@xterm/headless';
import { describe, expect, it, vi } from 'vitest';
import {
  MIRROR_EAGER_SHARE,
  MIRROR_MAX_BACKLOG_BYTES,
  MIRROR_QUIET_MS,
  TerminalMirror,
} from '../../../actors/pty/terminal-mirror.js';
import { sleep, waitUntil } from '../../support/wait.js';

const { Terminal } = headlessPackage;

// A file of its own: the eager share is the process's, so another test's steps would set when this one's may start.
describe('the terminal mirror outrun by a flood', () => {
  it('in the host parses nothing more before quiet once a flood outran it (a drop starts the screen again), and what it kept once quiet', async () => {
    const parses: Array<{ readonly at: number; done?: number }> = [];
    const write = Terminal.prototype.write;
    const spy = vi.spyOn(Terminal.prototype, 'write').mockImplementation(function (this: unknown, data, callback) {
      const parse: { readonly at: number; done?: number } = { at: performance.now() };
      parses.push(parse);
      write.call(this, data, () => {
        parse.done = performance.now();
        callback?.();
      });
    });
    const mirror = new TerminalMirror(40, 5, 100, true);
    try {
      const chunk = `${'w'.repeat(1023)}\n`;
      let pushed = 0;
      // Twice what the backlog holds, in one go: the oldest half is dropped (an eager step began on the way).
      const floodStarted = performance.now();
      while (pushed * chunk.length <= 2 * MIRROR_MAX_BACKLOG_BYTES) {
        mirror.push(chunk);
        pushed++;
      }
      const push = async (until: number) => {
        while (performance.now() < until) {
          for (let n = 0; n < 4; n++, pushed++) mirror.push(chunk);
          await sleep(MIRROR_QUIET_MS / 5);
        }
      };
      await push(performance.now() + MIRROR_QUIET_MS);
      expect(parses.length).toBe(1);
      const stepEnded = parses[0]?.done as number;
      // Output keeps coming (never quiet, past the eager threshold, short of another drop) for longer
      // than the eager share makes any mirror wait after the step begun during the flood.
      const parsesBefore = parses.length;
      await push(stepEnded + (stepEnded - floodStarted) * (1 / MIRROR_EAGER_SHARE - 1) + 4 * MIRROR_QUIET_MS);
      expect(parses.length).toBe(parsesBefore);
      mirror.push('quiet now');
      await waitUntil(() => mirror.parsedHistory().changes === pushed + 1, 'what was kept parsed once quiet');
      expect(parses.length).toBeGreaterThan(parsesBefore);
      expect(mirror.parsedHistory().data).toContain('quiet now');
    } finally {
      mirror.dispose();
      spy.mockRestore();
    }
  });
});
