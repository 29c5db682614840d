import type { IPty } from 'node-pty';
import type { CDPSession, Page } from 'playwright-core';
import { elapsedMs, nowNs, round, summarize } from './stats.js';

/**
 * The dashboard benchmark's side of a page: scripts installed in it that time a keystroke from its
 * `keydown` to xterm.js's DOM row (split at the WebSocket), the same keystroke on raw node-pty,
 * and the page's heap.
 */
export const PROMPT = '$';

/**
 * Installed in a page: `__lvArm(text, exact)` waits for the next keydown and then for a row of
 * xterm.js's DOM renderer that ends with (or is) `text`; `__lvPending` resolves with the
 * milliseconds between the two, measured by the page's own clock.
 */
export const PAGE_HELPER = `(() => {
  const rowsText = () => [...document.querySelectorAll('.xterm-rows > div')].map((row) =>
    row.textContent.replace(/\\u00a0/g, ' ').trimEnd());
  window.__lvRows = rowsText;
  window.__lvArm = (text, exact, key) => {
    window.__lvPending = new Promise((resolvePending) => {
      let keyAt = null;
      let sentAt = null;
      let messageAt = null;
      window.__lvOnSend = (data) => {
        if (keyAt !== null && sentAt === null && data.includes('"type":"input"')) sentAt = performance.now();
      };
      window.__lvOnMessage = (data) => {
        if (sentAt !== null && messageAt === null && data.includes('"type":"output"') && data.includes(key)) {
          messageAt = performance.now();
        }
      };
      const matches = () => rowsText().some((row) => (exact ? row === text : row.endsWith(text)));
      const done = (value) => {
        observer.disconnect();
        clearTimeout(timer);
        resolvePending(value);
      };
      const observer = new MutationObserver(() => {
        if (keyAt === null || !matches()) return;
        const at = performance.now();
        done({
          ms: at - keyAt,
          inputMs: sentAt === null ? null : sentAt - keyAt,
          roundTripMs: sentAt === null || messageAt === null ? null : messageAt - sentAt,
          renderMs: messageAt === null ? null : at - messageAt,
        });
      });
      observer.observe(document.querySelector('.terminal'), { childList: true, subtree: true, characterData: true });
      window.addEventListener('keydown', () => { keyAt = performance.now(); }, { capture: true, once: true });
      const timer = setTimeout(() => done({ timeout: true, rows: rowsText() }), 15000);
    });
    return true;
  };
  return true;
})()`;

/**
 * Installed before the page's own script: every WebSocket reports what the page sends and, before
 * the page's handler, what it receives, so an echo splits into xterm's input, the round trip
 * (server, terminal host, bash) and xterm's parse and render.
 */
export const SOCKET_HOOK = `(() => {
  const Native = window.WebSocket;
  class Watched extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => window.__lvOnMessage?.(String(event.data)));
    }
    send(data) {
      window.__lvOnSend?.(String(data));
      return super.send(data);
    }
  }
  window.WebSocket = Watched;
})()`;

export interface Echo {
  readonly ms: number;
  readonly driverMs: number;
  readonly inputMs: number | null;
  readonly roundTripMs: number | null;
  readonly renderMs: number | null;
}

interface PageEcho {
  readonly ms?: number;
  readonly inputMs?: number | null;
  readonly roundTripMs?: number | null;
  readonly renderMs?: number | null;
  readonly timeout?: boolean;
  readonly rows?: string[];
}

/** One keystroke in the page, timed inside it; also timed from here, playwright's round trips included. */
export async function pageKeystroke(page: Page, key: string, expect: string, exact: boolean): Promise<Echo> {
  // What the output frame must hold: the character (Enter's echo is checked on the row only).
  const echoed = key.length === 1 ? key : '';
  await page.evaluate(`window.__lvArm(${JSON.stringify(expect)}, ${exact}, ${JSON.stringify(echoed)})`);
  const started = nowNs();
  await page.keyboard.press(key);
  const echo = (await page.evaluate('window.__lvPending')) as PageEcho;
  const driver = elapsedMs(started);
  if (echo.ms === undefined) {
    throw new Error(`no row ${JSON.stringify(expect)} within 15 s of typing; rows: ${JSON.stringify(echo.rows)}`);
  }
  return {
    ms: echo.ms,
    driverMs: driver,
    inputMs: echo.inputMs ?? null,
    roundTripMs: echo.roundTripMs ?? null,
    renderMs: echo.renderMs ?? null,
  };
}

export function rawKeystroke(pty: IPty, data: string, expect: string): Promise<number> {
  return new Promise((resolveTrip, reject) => {
    const started = nowNs();
    let seen = '';
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`raw bash never echoed ${JSON.stringify(data)}`));
    }, 15_000);
    const sub = pty.onData((chunk) => {
      seen += chunk;
      if (!seen.includes(expect)) return;
      clearTimeout(timer);
      sub.dispose();
      resolveTrip(elapsedMs(started));
    });
    pty.write(data);
  });
}

export async function waitForRow(page: Page, match: (row: string) => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = (await page.evaluate('window.__lvRows()')) as string[];
    if (rows.some(match)) return;
    if (Date.now() > deadline) throw new Error(`no terminal row ${what}; rows: ${JSON.stringify(rows)}`);
    await page.waitForTimeout(50);
  }
}

export async function heapOf(cdp: CDPSession): Promise<{ usedMB: number; totalMB: number; nodes: number }> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const value = (name: string) => metrics.find((metric) => metric.name === name)?.value ?? Number.NaN;
  return {
    usedMB: round(value('JSHeapUsedSize') / 1e6, 2),
    totalMB: round(value('JSHeapTotalSize') / 1e6, 2),
    nodes: value('Nodes'),
  };
}

export interface Typed {
  readonly inPage: number[];
  readonly withDriver: number[];
  readonly raw: number[];
  readonly input: number[];
  readonly roundTrip: number[];
  readonly render: number[];
  readonly lines: number;
}

/** p50 / p95 of each part of the page's echo, in ms. */
export function echoParts(typed: Typed): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const [name, samples] of [
    ['input', typed.input],
    ['roundTrip', typed.roundTrip],
    ['render', typed.render],
  ] as const) {
    const summary = summarize(samples);
    parts[`${name}P50Ms`] = round(summary.p50, 2);
    parts[`${name}P95Ms`] = round(summary.p95, 2);
  }
  parts.splitSamples = Math.min(typed.input.length, typed.roundTrip.length, typed.render.length);
  return parts;
}

/**
 * Keystrokes typed as comment lines (`#000:abcdefghijklmno`, Enter) at the page's bash prompt and,
 * one for one, at raw node-pty's bash; `between` runs after each pair.
 */
export async function typeLines(
  page: Page,
  raw: IPty,
  count: number,
  firstLine: number,
  between: () => Promise<void> = async () => undefined,
): Promise<Typed> {
  const samples = {
    inPage: [] as number[],
    withDriver: [] as number[],
    raw: [] as number[],
    input: [] as number[],
    roundTrip: [] as number[],
    render: [] as number[],
    lines: 0,
  };
  for (let line = firstLine; samples.inPage.length < count; line++) {
    const text = `#${String(line).padStart(3, '0')}:abcdefghijklmno`;
    for (let k = 1; k <= text.length && samples.inPage.length < count; k++) {
      const key = text[k - 1] as string;
      const echo = await pageKeystroke(page, key, text.slice(0, k), false);
      samples.inPage.push(echo.ms);
      samples.withDriver.push(echo.driverMs);
      if (echo.inputMs !== null) samples.input.push(echo.inputMs);
      if (echo.roundTripMs !== null) samples.roundTrip.push(echo.roundTripMs);
      if (echo.renderMs !== null) samples.render.push(echo.renderMs);
      samples.raw.push(await rawKeystroke(raw, key, key));
      await between();
    }
    // A comment line: bash prints the next prompt and nothing else (not timed).
    await pageKeystroke(page, 'Enter', PROMPT, true);
    await rawKeystroke(raw, '\r', '$ ');
    samples.lines++;
  }
  return samples;
}
