import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PageProblems, watchProblems } from '../support/browser.js';
import { ServedDashboard } from '../support/served-dashboard.js';

/**
 * Tabs of one browser profile share one event stream: 8 pages of one Chromium context (Chromium
 * allows 6 HTTP/1.1 connections per host and profile, so 8 streams of their own could not all
 * open) against a real `lanevisor serve`. One tab (the Web Lock's holder) follows /api/events and
 * passes it on over a BroadcastChannel; when it closes, another takes over from its last event.
 */
const TABS = 8;

let dash: ServedDashboard;
let context: BrowserContext;

interface Tab {
  readonly page: Page;
  readonly problems: PageProblems;
  /** The /api/events requests this tab made. */
  readonly streams: string[];
}

const callApi = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
  dash.callApi<T>(method, path, body);

async function openTab(into: BrowserContext, address: string): Promise<Tab> {
  const page = await into.newPage();
  const problems = watchProblems(page);
  const streams: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/events') streams.push(request.url());
  });
  await page.goto(address);
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
  return { page, problems, streams };
}

const showLane = (tabs: readonly Tab[], label: string) =>
  Promise.all(tabs.map((tab) => tab.page.locator('.lane-row', { hasText: label }).waitFor()));

/** How many `lane.created` events the tab's timeline holds. */
async function createdEvents(tab: Tab): Promise<number> {
  return tab.page.locator('.event[data-topic="lane.created"]').count();
}

beforeAll(async () => {
  dash = await ServedDashboard.start();
}, 60_000);

afterAll(async () => {
  await dash?.dispose();
});

describe('dashboard tabs of one browser profile', () => {
  it('share one event stream: 8 tabs live, actions from the 8th, and a new leader when the first closes', async () => {
    await callApi('POST', '/api/lanes', { label: 'one' });
    context = await dash.browser.newContext({ viewport: { width: 1024, height: 700 } });
    // The first tab sets the cookie (and takes the lock); the others open at once.
    const first = await openTab(context, `${dash.served.url}?token=${dash.served.token}`);
    const others = await Promise.all(Array.from({ length: TABS - 1 }, () => openTab(context, dash.served.url)));
    const tabs = [first, ...others];
    await showLane(tabs, 'one');
    expect(tabs.map((tab) => tab.streams.length)).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(first.streams[0]).toMatch(/\?lastEventId=0$/);

    // An event reaches every tab without a reload.
    await callApi('POST', '/api/lanes', { label: 'two' });
    await showLane(tabs, 'two');

    // The 8th tab's requests are not starved of connections: a lane made from its form.
    const eighth = tabs[TABS - 1] as Tab;
    await eighth.page.getByLabel('Lane label').fill('three');
    await eighth.page.getByRole('button', { name: 'New lane' }).click();
    await eighth.page.locator('.lane-row[aria-selected="true"]', { hasText: 'three' }).waitFor();
    await showLane(tabs, 'three');

    // The leader's tab closes: another takes the stream over after the last event it saw.
    await first.page.close();
    await callApi('POST', '/api/lanes', { label: 'four' });
    await showLane(others, 'four');
    const resumed = others.flatMap((tab) => tab.streams);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatch(/\?lastEventId=[1-9]\d*$/);

    // No event missed or shown twice, in the new leader or the tabs that follow it: one
    // lane.created per lane in every timeline (the followers' pasts came from the first leader).
    // dispatchEvent: a click would wait for animation frames, which Chromium holds back in the
    // tabs that are not in front.
    for (const tab of others) await tab.page.getByRole('button', { name: 'events' }).dispatchEvent('click');
    for (const tab of others) await expect.poll(() => createdEvents(tab)).toBe(4);
    expect(others.flatMap((tab) => tab.problems.all)).toEqual([]);
    expect(first.problems.all).toEqual([]);
    await context.close();
  });

  it('say "not authorized" after a restart with a new token, until a tab opened with the new address brings them back', async () => {
    context = await dash.browser.newContext();
    const first = await openTab(context, `${dash.served.url}?token=${dash.served.token}`);
    const tabs = [first, await openTab(context, dash.served.url), await openTab(context, dash.served.url)];
    // The restart: refused connections while it is down, then the old cookie's 401s (an event
    // stream refused so is reported as aborted).
    const restart =
      /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED|\b401\b|\/api\/events\?\S* net::ERR_ABORTED/;
    for (const tab of tabs) tab.problems.tolerate(restart);
    await dash.stopServe();
    const oldToken = dash.served.token;
    rmSync(join(dash.repo.path, '.git', 'lanevisor', 'serve-token'));
    await dash.startServe();
    expect(dash.served.token).not.toBe(oldToken);
    await Promise.all(
      tabs.map((tab) =>
        tab.page.getByRole('status').filter({ hasText: 'not authorized' }).waitFor({ timeout: 15_000 }),
      ),
    );
    // One stream for the three all along: the first tab's, reopened by it.
    expect(tabs.map((tab) => tab.streams.length > 0)).toEqual([true, false, false]);

    const fourth = await openTab(context, `${dash.served.url}?token=${dash.served.token}`);
    const all = [...tabs, fourth];
    await Promise.all(all.map((tab) => tab.page.getByRole('status').filter({ hasText: 'live' }).waitFor()));
    await callApi('POST', '/api/lanes', { label: 'six' });
    await showLane(all, 'six');
    expect(fourth.streams).toEqual([]);
    expect(all.flatMap((tab) => tab.problems.all)).toEqual([]);
    await context.close();
  });

  it('falls back to a stream of its own where Web Locks are missing', async () => {
    const bare = await dash.browser.newContext();
    await bare.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }));
    const tab = await openTab(bare, `${dash.served.url}?token=${dash.served.token}`);
    await callApi('POST', '/api/lanes', { label: 'five' });
    await tab.page.locator('.lane-row', { hasText: 'five' }).waitFor();
    expect(tab.streams).toHaveLength(1);
    expect(tab.problems.all).toEqual([]);
    await bare.close();
  });
});
