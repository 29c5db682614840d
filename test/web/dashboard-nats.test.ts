import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pty } from '../../index.js';
import { connectNats, type NatsLink } from '../../nats/index.js';
import { type PageProblems, screenshot, watchProblems } from '../support/browser.js';
import { type NatsServerFixture, startNatsServer } from '../support/nats-server.js';
import { BASH_PTY, createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';
import { ServedDashboard } from '../support/served-dashboard.js';
import { waitUntil } from '../support/wait.js';

/**
 * `lanevisor serve --nats` in Chromium: the page lists the lanes of its own runtime and of another
 * one on the same NATS (standing for another machine), grouped by runtime, and what it does to
 * the other runtime's lane (typing into its terminal, an action, a new lane there) lands there.
 */
describe('the dashboard across runtimes (serve --nats)', () => {
  let nats: NatsServerFixture;
  let there: RuntimeFixture;
  let link: NatsLink;
  let shell: Pty;
  let dash: ServedDashboard;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    nats = await startNatsServer();
    there = await createRuntimeFixture();
    link = await connectNats(there.rt, { servers: nats.url });
    const far = await there.rt.createLane({ label: 'far' });
    shell = await far.spawnPty({ ...BASH_PTY, env: { PS1: 'far$ ' } });
    dash = await ServedDashboard.start(['--nats', nats.url]);
  }, 60_000);

  afterAll(async () => {
    await dash?.dispose();
    await link?.close();
    await there?.dispose();
    await nats?.dispose();
  }, 60_000);

  const callApi = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    dash.callApi<T>(method, path, body);

  it("lists both runtimes' lanes grouped by runtime, and types into the other runtime's terminal", async () => {
    await callApi('POST', '/api/lanes', { label: 'near' });
    const context = await dash.browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    problems = watchProblems(page);
    await page.goto(`${dash.served.url}?token=${dash.served.token}`);
    await page.locator('.lane-row', { hasText: 'far' }).waitFor();
    await page.locator('.lane-row', { hasText: 'near' }).waitFor();
    const headings = await page.locator('.runtime-heading').allInnerTexts();
    expect(headings).toHaveLength(2);
    expect(await page.locator(`.runtime-heading[data-runtime="${there.rt.id}"]`).count()).toBe(1);
    // The far lane is listed under its own runtime's heading: the next row after it.
    const order = await page.locator('.runtime-heading, .lane-row').allInnerTexts();
    const farHeading = order.indexOf(headings[1] as string);
    expect(order[farHeading + 1]).toContain('far');

    await page.locator('.lane-row', { hasText: 'far' }).click();
    await page.getByRole('tab', { name: /^terminal 1/ }).click();
    await page.locator('.xterm').click();
    await page.keyboard.type('echo typed-in-browser-$((6*7))\n');
    await waitUntil(
      () => shell.scrollback().includes('typed-in-browser-42'),
      'the other runtime to get the input',
      15_000,
    );
    const rows = async () =>
      (await page.locator('.xterm-rows > div').allInnerTexts()).map((row) => row.replace(/\u00a0/g, ' ').trimEnd());
    const deadline = Date.now() + 15_000;
    while (!(await rows()).includes('typed-in-browser-42')) {
      if (Date.now() > deadline) throw new Error(`the output is not shown: ${JSON.stringify(await rows())}`);
      await page.waitForTimeout(50);
    }
    await screenshot(page, 'nats-two-runtimes');
    expect(problems.all).toEqual([]);
  }, 60_000);

  it("sends an action on the other runtime's lane, and a new lane made there, to that runtime", async () => {
    const far = there.rt.lanes().find((lane) => lane.label === 'far');
    await callApi('POST', `/api/lanes/${far?.id}/block`, { reason: 'waiting for review' });
    expect(there.rt.getLane(far?.id as string)?.state).toBe('blocked');

    await page.getByRole('combobox', { name: 'Runtime' }).selectOption(there.rt.id);
    await page.getByRole('textbox', { name: 'Lane label' }).fill('made-far');
    await page.getByRole('button', { name: 'New lane' }).click();
    await waitUntil(
      () => there.rt.lanes().some((lane) => lane.label === 'made-far'),
      'the lane on the other runtime',
      20_000,
    );
    await page.locator('.lane-row', { hasText: 'made-far' }).waitFor();
    const here = await callApi<Array<{ label: string; runtime: { id: string } }>>('GET', '/api/lanes');
    expect(here.find((lane) => lane.label === 'made-far')?.runtime.id).toBe(there.rt.id);
    expect(here.find((lane) => lane.label === 'near')?.runtime.id).not.toBe(there.rt.id);
    expect(problems.all).toEqual([]);
  }, 60_000);
});
