import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (.ci/run installs it when missing); playwright's own download cannot work here. */
export const CHROMIUM = process.env.LANEVISOR_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots a reviewer may look at: a test artifact, ignored by git. */
export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-artifacts/dashboard');

/** What went wrong in a page that no assertion looked for: console errors, failed requests, page errors. */
export interface PageProblems {
  readonly all: string[];
  /** Problems from now on are expected (the server is down on purpose) when they match. */
  tolerate(pattern: RegExp | null): void;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking flags Chromium keeps dialling Google on a closed network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
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
