import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * How the browser tests (test/support/browser.ts) and the dashboard benchmark launch Chromium: one
 * place, so that the benchmark measures the browser the tests drive. It lives in bench/ because
 * the build compiles bench/ (not test/) and leaves dist/bench out of the package: a bench import
 * of test/ would put test code into the published dist/.
 */
/** Debian's Chromium (.ci/run installs it when missing); playwright's own download cannot work here. */
export const CHROMIUM = process.env.LANEVISOR_CHROMIUM ?? '/usr/bin/chromium';
/** Without the background-networking flags Chromium keeps dialling Google on a closed network. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
}
