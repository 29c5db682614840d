import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLane, type PageProblems, screenshot, waitForRow, watchProblems } from '../support/browser.js';
import { ServedDashboard } from '../support/served-dashboard.js';

/**
 * The lane actions of the dashboard that act on agents and on the lane's state, and a terminal's
 * paste and copy on select, in Chromium against a real `lanevisor serve`: what the page does is
 * read back from the runtime through the API, and the page shows it.
 */
let dash: ServedDashboard;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;

interface LaneJson {
  readonly id: string;
  readonly state: string;
  readonly agents: string[];
  readonly shared: boolean;
}

const laneOf = (id: string) => dash.callApi<LaneJson>('GET', `/api/lanes/${id}`);

beforeAll(async () => {
  dash = await ServedDashboard.start();
  context = await dash.browser.newContext({
    viewport: { width: 1280, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page = await context.newPage();
  problems = watchProblems(page);
  await page.goto(`${dash.served.url}?token=${dash.served.token}`);
}, 60_000);

afterAll(async () => {
  await context?.close();
  await dash?.dispose();
});

describe('dashboard actions in Chromium', () => {
  it('attaches an agent, refuses a second until the lane is shared, detaches, blocks and unblocks', async () => {
    const lane = await dash.callApi<LaneJson>('POST', '/api/lanes', { label: 'agents' });
    await openLane(page, 'agents', /^Actions$/);
    const attach = page.getByRole('form', { name: 'Attach an agent' });

    await attach.getByLabel('Agent id').fill('agent-a');
    await attach.getByRole('button', { name: 'Attach' }).click();
    await page.getByRole('button', { name: 'Detach agent-a' }).waitFor();
    expect((await laneOf(lane.id)).agents).toEqual(['agent-a']);

    // An unshared lane holds one agent: the refusal is shown in words and changes nothing.
    problems.tolerate(/\b409\b/);
    await attach.getByLabel('Agent id').fill('agent-b');
    await attach.getByRole('button', { name: 'Attach' }).click();
    await page.getByRole('alert').filter({ hasText: 'INVALID_STATE' }).waitFor();
    problems.tolerate(null);
    expect((await laneOf(lane.id)).agents).toEqual(['agent-a']);

    await attach.getByRole('button', { name: 'Share' }).click();
    await page.locator('.lane-row', { hasText: 'agents' }).getByText('shared').waitFor();
    expect(await laneOf(lane.id)).toMatchObject({ state: 'shared', shared: true });
    await attach.getByRole('button', { name: 'Share' }).waitFor({ state: 'detached' });
    await attach.getByLabel('Agent id').fill('agent-b');
    await attach.getByRole('button', { name: 'Attach' }).click();
    await page.getByRole('button', { name: 'Detach agent-b' }).waitFor();
    expect((await laneOf(lane.id)).agents).toEqual(['agent-a', 'agent-b']);

    await page.getByRole('button', { name: 'Detach agent-a' }).click();
    await page.getByRole('button', { name: 'Detach agent-a' }).waitFor({ state: 'detached' });
    expect((await laneOf(lane.id)).agents).toEqual(['agent-b']);

    const block = page.getByRole('form', { name: 'Block the lane' });
    await block.getByLabel('Block reason').fill('waiting for a review');
    await block.getByRole('button', { name: 'Block' }).click();
    await page.getByRole('button', { name: 'Unblock' }).waitFor();
    await page.locator('.lane-row', { hasText: 'agents' }).getByText('blocked').waitFor();
    expect(await laneOf(lane.id)).toMatchObject({
      state: 'blocked',
      blockReason: 'waiting for a review',
      shared: true,
    });
    // Blocked, it is still shared: nothing offers to share it again.
    expect(await attach.getByRole('button', { name: 'Share' }).count()).toBe(0);
    // Why, in the list and in the lane's head.
    await page.locator('.lane-row .block-reason', { hasText: 'waiting for a review' }).waitFor();
    await page.locator('.lane-head .block-reason', { hasText: 'waiting for a review' }).waitFor();
    await screenshot(page, 'blocked');

    await page.getByRole('button', { name: 'Unblock' }).click();
    await block.waitFor();
    const unblocked = await laneOf(lane.id);
    expect(unblocked).toMatchObject({ state: 'shared', blockReason: null });
    expect(await page.locator('.block-reason').count()).toBe(0);
    expect(unblocked.agents).toEqual(['agent-b']);
    expect(problems.all).toEqual([]);
  });

  it('pastes into a terminal as typed input, and copies what is selected to the clipboard', async () => {
    const lane = await dash.callApi<LaneJson>('POST', '/api/lanes', { label: 'clipboard' });
    await dash.callApi('POST', `/api/lanes/${lane.id}/ptys`, {
      command: 'bash',
      args: ['--norc', '--noprofile', '-i'],
      env: { PS1: '$ ' },
    });
    await openLane(page, 'clipboard', /^terminal 1/);
    await waitForRow(page, (row) => row === '$', 'with the prompt');

    // A paste as Chromium delivers one to xterm.js's input element (what Ctrl+V does).
    await page.locator('.xterm').click();
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData('text/plain', 'echo pasted-$((2 + 3))');
      const input = document.querySelector('.xterm-helper-textarea') as HTMLTextAreaElement;
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await page.keyboard.press('Enter');
    await waitForRow(page, (row) => row === 'pasted-5', 'with what the pasted command printed');

    // A double click selects the word; the selection lands on the clipboard.
    const row = page.locator('.xterm-rows > div').filter({ hasText: /^pasted-5\s*$/ });
    const box = await row.boundingBox();
    expect(box).not.toBeNull();
    await page.mouse.dblclick((box?.x ?? 0) + 12, (box?.y ?? 0) + (box?.height ?? 0) / 2);
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText()), { timeout: 5_000 }).toBe('pasted-5');
    expect(problems.all).toEqual([]);
  });
});
