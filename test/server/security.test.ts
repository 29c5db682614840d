import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LaneView, PtyInfo } from '../../index.js';
import { ROUTES } from '../../server/routes.js';
import { BASH_PTY } from '../support/runtime-fixture.js';
import { postJson, rawRequest, type Served, startServed } from './harness.js';

/** The contract's request checks: token, Host, Origin, no CORS, the headers, the cookie flow. */
let served: Served;
let pty: PtyInfo;
beforeAll(async () => {
  served = await startServed();
  const lane = (await (await served.api('/api/lanes', postJson({}))).json()) as LaneView;
  pty = (await (await served.api(`/api/lanes/${lane.id}/ptys`, postJson(BASH_PTY))).json()) as PtyInfo;
});
afterAll(async () => {
  await served.dispose();
});

const url = (path: string) => new URL(path, served.server.url).toString();
const codeOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string } }).error;

/** The status an upgrade is answered with (101 when it was accepted). */
function upgradeStatus(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url(path).replace(/^http/, 'ws'), { headers });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
    });
    ws.on('error', () => {});
  });
}

describe('the server', () => {
  it('has a token of 32 random bytes in hex, and a loopback URL', () => {
    expect(served.server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(served.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('answers 401 without the token on every route but the page and its assets, spelled any way', async () => {
    for (const route of ROUTES) {
      if (route.kind === 'page' || route.kind === 'asset') continue;
      const path = route.path.replace(/:[A-Za-z]+/g, 'x');
      for (const spelled of [path, path.replace('/api/', '/%61pi/')]) {
        const response = await rawRequest(url(spelled), {
          method: route.method,
          headers: {},
          ...(route.method === 'POST' ? { body: '{}' } : {}),
        });
        expect([spelled, response.status]).toEqual([spelled, 401]);
      }
    }
    const lanes = (await (await served.api('/api/lanes')).json()) as unknown[];
    const attempt = await rawRequest(url('/%61pi/lanes'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'sneaked-in' }),
    });
    expect(attempt.status).toBe(401);
    expect(((await (await served.api('/api/lanes')).json()) as unknown[]).length).toBe(lanes.length);
  });

  it('answers 401 without a token or with a wrong one, on every /api/ route', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Bearer ${'0'.repeat(64)}` }]) {
      for (const path of [
        '/api/runtime',
        '/api/lanes',
        '/api/openapi.json',
        '/api/events',
        '/api/nothing',
        // The router decodes these to /api/…: the check must not be fooled by the raw URL.
        '/%61pi/runtime',
        '/ap%69/lanes',
        '/%2561pi/lanes',
        '/API/lanes',
        '/nothing',
      ]) {
        const response = await rawRequest(url(path), { headers });
        expect(response.status).toBe(401);
        expect(codeOf(response.body)).toMatchObject({
          code: 'UNAUTHORIZED',
          message: expect.stringMatching(/missing or wrong token/),
        });
      }
    }
    expect(await upgradeStatus(`/api/ptys/${pty.id}/stream`, {})).toBe(401);
  });

  it('answers 403 to a foreign Host (DNS rebinding), token or not', async () => {
    const port = new URL(served.server.url).port;
    for (const host of ['attacker.example', `attacker.example:${port}`, `127.0.0.1:1`]) {
      const response = await rawRequest(url('/api/lanes'), {
        headers: { host, authorization: `Bearer ${served.server.token}` },
      });
      expect(response.status).toBe(403);
      expect(codeOf(response.body).code).toBe('FORBIDDEN');
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const response = await rawRequest(url('/api/lanes'), {
        headers: { host, authorization: `Bearer ${served.server.token}` },
      });
      expect(response.status).toBe(200);
    }
    const auth = { authorization: `Bearer ${served.server.token}` };
    expect(await upgradeStatus(`/api/ptys/${pty.id}/stream`, { ...auth, host: 'attacker.example' })).toBe(403);
  });

  it('answers 403 to a WebSocket from a foreign Origin, and accepts its own origin', async () => {
    const auth = { authorization: `Bearer ${served.server.token}` };
    const own = new URL(served.server.url).origin;
    expect(await upgradeStatus(`/api/ptys/${pty.id}/stream`, { ...auth, origin: 'http://attacker.example' })).toBe(403);
    expect(await upgradeStatus(`/api/ptys/${pty.id}/stream`, { ...auth, origin: 'null' })).toBe(403);
    expect(await upgradeStatus(`/api/ptys/${pty.id}/stream`, { ...auth, origin: own })).toBe(101);
    expect(await upgradeStatus('/api/ptys/pty_nope/stream', auth)).toBe(404);
    expect(await upgradeStatus('/api/elsewhere', auth)).toBe(404);
  });

  it('sends no CORS headers and the security headers on every response', async () => {
    const auth = { authorization: `Bearer ${served.server.token}`, origin: 'http://attacker.example' };
    const responses = [
      await rawRequest(url('/'), { headers: auth }),
      await rawRequest(url('/api/lanes'), { headers: auth }),
      await rawRequest(url('/api/lanes'), {
        method: 'OPTIONS',
        headers: { ...auth, 'access-control-request-method': 'POST' },
      }),
      await rawRequest(url('/api/nothing'), { headers: auth }),
      await rawRequest(url('/api/lanes'), { headers: { origin: 'http://attacker.example' } }),
    ];
    for (const response of responses) {
      expect(Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['content-security-policy']).toMatch(/default-src 'self'/);
      // Script only from the server's own files: no inline script, no eval (inline style is
      // allowed for xterm.js's own <style> elements).
      const policy = String(response.headers['content-security-policy']);
      expect(/script-src ([^;]*)/.exec(policy)?.[1]).toBe("'self'");
      expect(policy).not.toMatch(/unsafe-eval/);
    }
  });

  it('the cookie flow: /?token= sets an HttpOnly SameSite=Strict cookie and redirects; the cookie authenticates', async () => {
    const redirect = await rawRequest(url(`/?token=${served.server.token}`));
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe('/');
    const cookie = redirect.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    const pair = cookie.split(';')[0] as string;
    expect((await rawRequest(url('/api/lanes'), { headers: { cookie: pair } })).status).toBe(200);
    expect((await rawRequest(url('/api/lanes'), { headers: { cookie: 'lanevisor_token=wrong' } })).status).toBe(401);
    expect(await upgradeStatus(`/api/ptys/${pty.id}/stream`, { cookie: pair })).toBe(101);
    expect((await rawRequest(url('/?token=wrong'))).status).toBe(401);

    const page = await rawRequest(url('/'), { headers: { cookie: pair } });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('/api/openapi.json');
    expect(page.body).toContain('data-authorized="yes"');
    // Its one script is a file of the server's (the CSP would refuse an inline one anyway).
    expect([...page.body.matchAll(/<script([^>]*)>([^<]*)<\/script>/gi)].map((m) => [m[1], m[2]])).toEqual([
      [' type="module" src="/assets/app.js"', ''],
    ]);
    expect(page.body).not.toContain(served.server.token);
  });
});
