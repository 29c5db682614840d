import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneView, PtyInfo } from '../../index.js';
import { tokenFromFile } from '../../server/token-file.js';
import { BASH_PTY } from '../support/runtime-fixture.js';
import { postJson, rawRequest, type Served, startServed } from './harness.js';

/** The lane actions the dashboard uses, the page and its assets, and the kept token. */
let served: Served;
beforeAll(async () => {
  served = await startServed();
});
afterAll(async () => {
  await served.dispose();
});

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe('lane actions over HTTP', () => {
  it('shares, attaches, detaches, blocks and unblocks, each answered with the lane as it left it', async () => {
    const lane = (await (
      await served.api('/api/lanes', postJson({ label: 'actions', agent: 'a1' }))
    ).json()) as LaneView;
    const path = `/api/lanes/${lane.id}`;
    // An unshared lane holds one agent: a second is refused, and nothing changes.
    const second = await served.api(`${path}/agents`, postJson({ agentId: 'a2' }));
    expect(second.status).toBe(409);
    expect(await errorCode(second)).toBe('INVALID_STATE');

    const shared = (await (await served.api(`${path}/share`, postJson({}))).json()) as LaneView;
    expect(shared.state).toBe('shared');
    const attached = (await (await served.api(`${path}/agents`, postJson({ agentId: 'a2' }))).json()) as LaneView;
    expect(attached.agents).toEqual(['a1', 'a2']);
    const unknown = await served.api(`${path}/agents/nobody/detach`, postJson({}));
    expect(unknown.status).toBe(404);
    const detached = (await (await served.api(`${path}/agents/a1/detach`, postJson({}))).json()) as LaneView;
    expect(detached.agents).toEqual(['a2']);
    await served.api(`${path}/agents/a2/detach`, postJson({}));

    const noReason = await served.api(`${path}/block`, postJson({}));
    expect(noReason.status).toBe(400);
    expect(await errorCode(noReason)).toBe('VALIDATION_ERROR');
    const blocked = (await (
      await served.api(`${path}/block`, postJson({ reason: 'waiting for review' }))
    ).json()) as LaneView;
    expect(blocked.state).toBe('blocked');
    const unblocked = (await (await served.api(`${path}/unblock`, postJson({}))).json()) as LaneView;
    expect(unblocked.state).toBe('ready');
    expect((await served.api('/api/lanes/lane_nope/share', postJson({}))).status).toBe(404);
  });

  it("tells each PTY's last line of text, escapes and redraws removed", async () => {
    const lane = (await (await served.api('/api/lanes', postJson({ label: 'last-line' }))).json()) as LaneView;
    const pty = (await (
      await served.api(
        `/api/lanes/${lane.id}/ptys`,
        postJson({
          ...BASH_PTY,
          args: ['-c', "printf 'first\\n\\033[31mred line\\033[0m\\n\\n50%%\\r100%% done\\n'; sleep 30"],
        }),
      )
    ).json()) as PtyInfo;
    const deadline = Date.now() + 10_000;
    let info: PtyInfo | undefined;
    while (Date.now() < deadline) {
      info = ((await (await served.api(`/api/lanes/${lane.id}`)).json()) as LaneView).ptys.find(
        (one) => one.id === pty.id,
      );
      if (info?.lastLine === '100% done') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(info?.lastLine).toBe('100% done');
    await served.api(`/api/ptys/${pty.id}/terminate`, postJson({}));
  });
});

describe("a lane's diff against another base", () => {
  it("?base=<the lane's branch> has only what is not committed (what a cleanup salvages); without it, everything", async () => {
    const lane = (await (await served.api('/api/lanes', postJson({ label: 'diff-base' }))).json()) as LaneView;
    const exec = (argv: string[]) => served.api(`/api/lanes/${lane.id}/exec`, postJson({ argv }));
    await exec(['sh', '-c', 'echo a > committed.txt && git add committed.txt && git commit -qm c']);
    await exec(['sh', '-c', 'echo b > loose.txt']);
    const paths = async (query: string) =>
      (
        (await (await served.api(`/api/lanes/${lane.id}/diff${query}`)).json()) as { files: Array<{ path: string }> }
      ).files
        .map((file) => file.path)
        .sort();
    expect(await paths(`?base=${encodeURIComponent(`refs/heads/${lane.branch}`)}`)).toEqual(['loose.txt']);
    expect(await paths('')).toEqual(['committed.txt', 'loose.txt']);
  });
});

describe('the page and its assets', () => {
  it('serves the page without the token, saying whether the request carried it, with the CSP', async () => {
    const stranger = await rawRequest(served.server.url, { headers: { host: new URL(served.server.url).host } });
    expect(stranger.status).toBe(200);
    expect(stranger.body).toContain('data-authorized="no"');
    expect(stranger.body).toContain('<script type="module" src="/assets/app.js">');
    expect(stranger.body).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect(String(stranger.headers['content-security-policy'])).toContain("script-src 'self';");
    const known = await served.api('/');
    expect(await known.text()).toContain('data-authorized="yes"');
  });

  it('serves the built script and style sheet, and 404 for anything else', async () => {
    const script = await fetch(new URL('/assets/app.js', served.server.url));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(10_000);
    const style = await fetch(new URL('/assets/app.css', served.server.url));
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await style.text()).toContain('.xterm');
    const other = await fetch(new URL('/assets/secrets.json', served.server.url));
    expect(other.status).toBe(404);
    expect((await fetch(new URL('/assets/..%2Fpackage.json', served.server.url))).status).toBe(404);
  });
});

describe('the token file', () => {
  it('writes a new token 0600 once and reads the same one after; refuses a file others may read or that holds no token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanevisor-token-'));
    try {
      const file = join(dir, 'serve-token');
      const token = await tokenFromFile(file);
      expect(token).toMatch(/^[0-9a-f]{64}$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await expect(tokenFromFile(file)).resolves.toBe(token);
      chmodSync(file, 0o644);
      await expect(tokenFromFile(file)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      writeFileSync(join(dir, 'bad'), 'not a token\n', { mode: 0o600 });
      await expect(tokenFromFile(join(dir, 'bad'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a server started again on the same token file answers to the same token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanevisor-token-'));
    try {
      const file = join(dir, 'serve-token');
      const first = await served.fixture.rt.serve({ tokenFile: file });
      await first.close();
      const second = await served.fixture.rt.serve({ tokenFile: file });
      expect(second.token).toBe(first.token);
      const response = await fetch(new URL('/api/runtime', second.url), {
        headers: { authorization: `Bearer ${first.token}` },
      });
      expect(response.status).toBe(200);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
