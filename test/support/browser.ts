import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';

// The launch is shared with the dashboard benchmark (see bench/chromium.ts for why it lives there).
export { CHROMIUM, launchChromium } from '../../bench/chromium.js';

/** Screenshots a reviewer may look at: a test artifact, ignored by git. */
export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-artifacts/dashboard');

/** What went wrong in a page that no assertion looked for: console errors, failed requests, page errors. */
export interface PageProblems {
  readonly all: string[];
  /** Problems from now on are expected (the server is down on purpose) when they match. */
  tolerate(pattern: RegExp | null): void;
}

/** Records every console error, uncaught page error and failed or refused request of `page`. */
export function watchProblems(page: Page): PageProblems {
  const all: string[] = [];
  let tolerated: RegExp | null = null;
  const note = (text: string) => {
    if (tolerated === null || !tolerated.test(text)) all.push(text);
  };
  page.on('console', (message) => {
    if (message.type() === 'error') note(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => note(`page error: ${error.message}`));
  page.on('requestfailed', (request) => note(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) note(`response ${response.status()}: ${response.url()}`);
  });
  return {
    all,
    tolerate(pattern) {
      tolerated = pattern;
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`) });
}

/** The rows xterm.js shows in `page`, as text (its DOM renderer spaces with no-break spaces). */
export async function terminalRows(page: Page): Promise<string[]> {
  const rows = await page.locator('.xterm-rows > div').allInnerTexts();
  return rows.map((row) => row.replace(/\u00a0/g, ' ').trimEnd());
}

/** The first terminal row that `match`es, once one does; fails after `timeoutMs` with the rows shown. */
export async function waitForRow(
  page: Page,
  match: (row: string) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = (await terminalRows(page)).find(match);
    if (row !== undefined) return row;
    if (Date.now() > deadline)
      throw new Error(`no terminal row ${what}; rows: ${JSON.stringify(await terminalRows(page))}`);
    await page.waitForTimeout(50);
  }
}

/** Selects the lane labelled `label` in the list and opens its tab named `tab`. */
export async function openLane(page: Page, label: string, tab: RegExp): Promise<void> {
  await page.locator('.lane-row', { hasText: label }).click();
  await page.getByRole('tab', { name: tab }).click();
}
