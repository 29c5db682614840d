import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../index.js';
import {
  openLane,
  type PageProblems,
  screenshot,
  terminalRows,
  waitForRow,
  watchProblems,
} from '../support/browser.js';
import { runLanevisor } from '../support/cli.js';
import { gitIn } from '../support/git-repo.js';
import { ServedDashboard } from '../support/served-dashboard.js';

/**
 * The dashboard as a person uses it: Debian's Chromium, headless, against a real `lanevisor
 * serve` on a temp repository. Each step also fails on any console error, page error or failed
 * request the page made. Screenshots land in test-artifacts/dashboard/.
 */
let dash: ServedDashboard;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;

const callApi = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
  dash.callApi<T>(method, path, body);

interface LaneJson {
  id: string;
  label: string;
  worktreePath: string;
  ptys: Array<{ id: string; name: string; cols: number; rows: number }>;
}

/** What the PTY's own terminal shows, through the control API's snapshot (over the local socket). */
async function ptyScreen(ptyId: string): Promise<string> {
  const result = await runLanevisor(['logs', 'beta', '--pty', ptyId, '--repo', dash.repo.path]);
  return result.stdout;
}

/**
 * Whether the terminal's row `index` (text near its start, the rest of the row blank) is drawn on
 * the screen: the pixels of its start differ from those of its blank end. A terminal laid out
 * wrong has its rows in the DOM and nothing of them on the screen.
 */
async function rowDrawn(index: number): Promise<boolean> {
  const box = await page.locator('.xterm-rows > div').nth(index).boundingBox();
  if (box === null || box.height === 0 || box.width < 400) return false;
  const width = 120;
  const start = await page.screenshot({ clip: { x: box.x, y: box.y, width, height: box.height } });
  const end = await page.screenshot({ clip: { x: box.x + box.width - width, y: box.y, width, height: box.height } });
  return !start.equals(end);
}

beforeAll(async () => {
  dash = await ServedDashboard.start();
}, 60_000);

afterAll(async () => {
  await dash?.dispose();
});

describe('the dashboard in Chromium', () => {
  it('without the token says "not authorized" instead of showing a blank page', async () => {
    const stranger = await dash.browser.newContext();
    const strangerPage = await stranger.newPage();
    const strangerProblems = watchProblems(strangerPage);
    await strangerPage.goto(dash.served.url);
    await expect(strangerPage.getByRole('heading', { name: 'lanevisor: not authorized' }).isVisible()).resolves.toBe(
      true,
    );
    expect(await strangerPage.getByRole('alert').innerText()).toContain('?token=');
    await screenshot(strangerPage, 'not-authorized');
    expect(strangerProblems.all).toEqual([]);
    await stranger.close();
  });

  it('shows the lanes made through the API, and a new one without a reload; arrow keys move between them', async () => {
    await callApi('POST', '/api/lanes', { label: 'alpha' });
    context = await dash.browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    problems = watchProblems(page);
    await page.goto(`${dash.served.url}?token=${dash.served.token}`);
    // The token left the address bar for the cookie.
    expect(page.url()).toBe(dash.served.url);
    await page.locator('.lane-row', { hasText: 'alpha' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    await callApi('POST', '/api/lanes', { label: 'beta' });
    await page.locator('.lane-row', { hasText: 'beta' }).waitFor();
    expect(await page.locator('.lane-row').count()).toBe(2);
    expect(await page.locator('.lane-row', { hasText: 'beta' }).innerText()).toMatch(
      /lane\/beta\s+0 terminals\s+\d+s old/,
    );

    await page.locator('.lane-row', { hasText: 'alpha' }).click();
    await page.keyboard.press('ArrowDown');
    await expect(page.locator('.lane-row[aria-selected="true"]').innerText()).resolves.toContain('beta');
    await expect(page.evaluate(() => document.activeElement?.textContent ?? '')).resolves.toContain('beta');
    expect(problems.all).toEqual([]);
  });

  it('types into a terminal and shows its output there; a viewport resize changes `stty size` in the PTY', async () => {
    const [alpha] = (await callApi<LaneJson[]>('GET', '/api/lanes')).filter((lane) => lane.label === 'alpha');
    const shell = await callApi<{ id: string }>('POST', `/api/lanes/${alpha?.id}/ptys`, {
      command: 'bash',
      args: ['--norc', '--noprofile'],
    });
    await openLane(page, 'alpha', /^terminal 1/);
    await page.locator('.xterm').click();
    await page.keyboard.type('echo hello-from-browser\n');
    // The command's output is a row of its own, below the echoed command.
    await waitForRow(page, (row) => row === 'hello-from-browser', 'with the output');
    await screenshot(page, 'terminal');

    await page.keyboard.type('clear; stty size\n');
    const before = await waitForRow(page, (row) => /^\d+ \d+$/.test(row), 'with the first size');
    await page.setViewportSize({ width: 900, height: 560 });
    const sizeOfPty = async () =>
      (await callApi<LaneJson>('GET', `/api/lanes/${alpha?.id}`)).ptys.find((pty) => pty.id === shell.id);
    const deadline = Date.now() + 10_000;
    while (`${(await sizeOfPty())?.rows} ${(await sizeOfPty())?.cols}` === before && Date.now() < deadline) {
      await page.waitForTimeout(50);
    }
    const resized = await sizeOfPty();
    await page.keyboard.type('clear; stty size\n');
    const after = await waitForRow(page, (row) => row === `${resized?.rows} ${resized?.cols}`, 'with the new size');
    expect(after).not.toBe(before);
    expect(resized?.cols).toBeLessThan(Number(before.split(' ')[1]));
    await page.setViewportSize({ width: 1280, height: 800 });

    // A hidden tab holds no stream; shown again, it redraws from a fresh screen.
    const sockets: Array<{ url: string; closed: boolean }> = [];
    page.on('websocket', (socket) => {
      const entry = { url: socket.url(), closed: false };
      sockets.push(entry);
      socket.on('close', () => {
        entry.closed = true;
      });
    });
    await page.getByRole('tab', { name: 'Changes' }).click();
    await page.locator('.xterm').waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: /^terminal 1/ }).click();
    await waitForRow(page, (row) => row === 'hello-from-browser' || /^\d+ \d+$/.test(row), 'redrawn from the screen');
    expect(sockets.map((socket) => socket.url.endsWith(`/api/ptys/${shell.id}/stream`))).toEqual([true]);
    expect(sockets[0]?.closed).toBe(false);
    expect(problems.all).toEqual([]);
  });

  it('shows a vim session started before the page opened at once, from the snapshot', async () => {
    const [beta] = (await callApi<LaneJson[]>('GET', '/api/lanes')).filter((lane) => lane.label === 'beta');
    await callApi('POST', `/api/lanes/${beta?.id}/ptys`, {
      command: 'vim',
      args: ['-u', 'NONE', '-N', '-n', '+call setline(1, "written before the page opened")'],
    });
    // The page opens after vim has drawn its screen (the PTY's own screen says so).
    const [editor] = (await callApi<LaneJson>('GET', `/api/lanes/${beta?.id}`)).ptys;
    const deadline = Date.now() + 10_000;
    while (!(await ptyScreen(editor?.id as string)).includes('written before the page opened')) {
      if (Date.now() > deadline) throw new Error('vim never drew its screen');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const earlier = page;
    page = await context.newPage();
    const pageProblems = watchProblems(page);
    await page.goto(dash.served.url);
    await openLane(page, 'beta', /^terminal 1/);
    const started = Date.now();
    await waitForRow(page, (row) => row === 'written before the page opened', 'with the text vim holds', 3_000);
    expect(Date.now() - started).toBeLessThan(3_000);
    // On the screen, not only in the DOM: vim's text and a `~` well below it.
    expect((await terminalRows(page)).slice(0, 6)).toEqual(['written before the page opened', '~', '~', '~', '~', '~']);
    expect([await rowDrawn(0), await rowDrawn(5)]).toEqual([true, true]);
    await screenshot(page, 'vim');
    expect(pageProblems.all).toEqual([]);
    await page.close();
    page = earlier;
    expect(problems.all).toEqual([]);
  });

  it('cleans a lane up through the UI after saying what it salvages; the lane goes and its salvage ref is shown', async () => {
    const [alpha] = (await callApi<LaneJson[]>('GET', '/api/lanes')).filter((lane) => lane.label === 'alpha');
    await callApi('POST', `/api/lanes/${alpha?.id}/exec`, {
      argv: ['sh', '-c', 'echo c > kept.txt && git add kept.txt && git commit -qm kept && echo work > salvage-me.txt'],
    });
    await page.locator('.lane-row', { hasText: 'alpha' }).click();
    await page.getByRole('button', { name: 'Clean up…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('salvage-me.txt').waitFor();
    const said = await dialog.innerText();
    expect(said).toContain('1 uncommitted file(s) will be salvaged');
    expect(said).toContain('1 file(s) committed on lane/alpha stay there: the branch is kept.');
    await screenshot(page, 'cleanup-confirm');
    await dialog.getByRole('button', { name: 'Clean up', exact: true }).click();
    const notice = page.locator('.notice');
    await notice.waitFor();
    const ref = /kept at (refs\/[\w/-]+)/.exec(await notice.innerText())?.[1];
    expect(ref).toMatch(/^refs\//);
    await page.locator('.lane-row', { hasText: 'alpha' }).waitFor({ state: 'detached' });
    expect(await notice.innerText()).toContain('its commits stay on lane/alpha');
    expect(gitIn(dash.repo.path, 'show', 'lane/alpha:kept.txt').trim()).toBe('c');
    // The ref is real and holds the file.
    expect(gitIn(dash.repo.path, 'show', `${ref}:salvage-me.txt`).trim()).toBe('work');
    await screenshot(page, 'after-cleanup');
    expect(problems.all).toEqual([]);
  });

  it("filters the lane list, and moves between a lane's tabs with the arrow keys", async () => {
    await page.getByLabel('Filter lanes').fill('bet');
    await expect(page.locator('.lane-row').allInnerTexts()).resolves.toHaveLength(1);
    await page.getByLabel('Filter lanes').fill('');
    await page.locator('.lane-row', { hasText: 'beta' }).click();
    await page.getByRole('tab', { name: /^terminal 1/ }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('tab', { selected: true }).innerText()).resolves.toBe('Changes');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Changes');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    // Around the end to the first tab again: the terminal, drawn from its screen.
    await expect(page.getByRole('tab', { selected: true }).innerText()).resolves.toMatch(/^terminal 1/);
    await waitForRow(page, (row) => row === 'written before the page opened', 'of vim again');
    expect(problems.all).toEqual([]);
  });

  it('shows the event timeline and the conflict matrix', async () => {
    await page.getByRole('button', { name: 'events' }).click();
    await page.locator('.event[data-topic="lane.created"]').first().waitFor({ timeout: 5_000 });
    await page.getByLabel('Topic filter').fill('lane.salvaged');
    await page.locator('.event').first().waitFor({ timeout: 5_000 });
    const topics = await page
      .locator('.event')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-topic')));
    expect(new Set(topics)).toEqual(new Set(['lane.salvaged']));
    await screenshot(page, 'events');
    await page.getByRole('button', { name: 'conflicts' }).click();
    await page.getByText("No lane's committed work conflicts with another's.").waitFor();
    await page.getByRole('button', { name: 'lanes' }).click();
    expect(problems.all).toEqual([]);
  });

  it('makes a lane, a terminal and an exec through its forms, and shows what each gave', async () => {
    await page.getByLabel('Lane label').fill('delta');
    await page.getByRole('button', { name: 'New lane' }).click();
    await page.locator('.lane-row[aria-selected="true"]', { hasText: 'delta' }).waitFor();
    const delta = (await callApi<LaneJson[]>('GET', '/api/lanes')).find((lane) => lane.label === 'delta');
    expect(delta).toBeDefined();

    await page.getByLabel('Terminal command').fill('echo made-in-the-form; exec cat');
    await page.getByLabel('Restart type').selectOption('transient');
    await page.getByRole('button', { name: 'New terminal' }).click();
    await waitForRow(page, (row) => row === 'made-in-the-form', 'with the new terminal output');
    const ptys = (await callApi<LaneJson>('GET', `/api/lanes/${delta?.id}`)).ptys as Array<{ restart?: string }>;
    expect(ptys.map((pty) => pty.restart)).toEqual(['transient']);

    await page.getByRole('tab', { name: 'Actions' }).click();
    await page.getByLabel('Command to run').fill('pwd; echo to-stderr >&2; exit 3');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const result = page.locator('.exec-result');
    await result.waitFor();
    expect(await result.innerText()).toContain('exit code 3');
    expect((await page.locator('.exec-stdout').innerText()).trim()).toBe(delta?.worktreePath);
    expect((await page.locator('.exec-stderr').innerText()).trim()).toBe('to-stderr');
    await screenshot(page, 'actions');

    // Its changes, a commit and the merge into its base, from the Changes tab.
    await callApi('POST', `/api/lanes/${delta?.id}/exec`, { argv: ['sh', '-c', 'echo new > from-delta.txt'] });
    await page.getByRole('tab', { name: 'Changes' }).click();
    await page.getByRole('cell', { name: 'from-delta.txt' }).waitFor();
    // Each file says whether it is committed (what a merge takes).
    const committedCell = (file: string) =>
      page
        .getByRole('row')
        .filter({ has: page.getByRole('cell', { name: file, exact: true }) })
        .getByRole('cell')
        .nth(4);
    expect(await committedCell('from-delta.txt').innerText()).toBe('no');
    await page.getByLabel('Commit message').fill('delta: a file');
    await page.getByRole('button', { name: 'Commit all' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Committed [0-9a-f]{12}\.$/ })
      .waitFor();
    // Work left uncommitted is not merged, and the notice says so.
    await callApi('POST', `/api/lanes/${delta?.id}/exec`, { argv: ['sh', '-c', 'echo draft > draft.txt'] });
    await page.getByRole('button', { name: 'Merge into the checked-out branch' }).click();
    await page
      .getByRole('status')
      .filter({
        hasText:
          /^Merged into [^ ]+ as [0-9a-f]{12}\. Its uncommitted changes were not merged: commit them, then merge again\.$/,
      })
      .waitFor();
    expect(gitIn(dash.repo.path, 'log', '-1', '--format=%s', 'HEAD').trim()).toContain('delta');
    await page.getByRole('cell', { name: 'draft.txt', exact: true }).waitFor();
    expect(await committedCell('draft.txt').innerText()).toBe('no');
    expect(await committedCell('from-delta.txt').innerText()).toBe('yes');
    await screenshot(page, 'changes');

    // An error is shown in words, and nothing is made (the refused request is the one problem).
    expect(problems.all).toEqual([]);
    problems.tolerate(/\b409\b/);
    await page.getByLabel('Lane label').fill('delta');
    await page.getByRole('button', { name: 'New lane' }).click();
    await page.getByRole('alert').filter({ hasText: 'ALREADY_EXISTS' }).waitFor();
    expect((await callApi<LaneJson[]>('GET', '/api/lanes')).filter((lane) => lane.label === 'delta')).toHaveLength(1);
    problems.tolerate(null);
  });

  it('after the server restarts, reconnects by itself and shows a lane created meanwhile', async () => {
    // While the server is down the browser itself logs the refused connections: those only.
    problems.tolerate(/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING/);
    await dash.stopServe();
    await page.getByRole('status').filter({ hasText: 'reconnecting' }).waitFor();
    const rt = await createRuntime({ repo: dash.repo.path });
    await rt.createLane({ label: 'gamma' });
    await rt.shutdown();
    await dash.startServe();
    await page.locator('.lane-row', { hasText: 'gamma' }).waitFor({ timeout: 20_000 });
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    problems.tolerate(null);
    await screenshot(page, 'lanes');
    expect(problems.all).toEqual([]);
  });
});
