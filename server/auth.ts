import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from './errors.js';
import { TOKEN_BYTES } from './limits.js';

export const TOKEN_COOKIE = 'lanevisor_token';

export function createToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex');
}

/** Constant time whatever the candidate: a length mismatch is compared against the token itself. */
export function tokenMatches(token: string, candidate: string | undefined): boolean {
  if (candidate === undefined) return false;
  const expected = Buffer.from(token);
  const given = Buffer.from(candidate);
  const same = timingSafeEqual(expected, given.length === expected.length ? given : expected);
  return same && given.length === expected.length;
}

/** The token a request carries: the bearer header first, else the cookie `/?token=` set. */
export function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  return cookieValue(headers.cookie, TOKEN_COOKIE);
}

export function assertAuthorized(token: string, headers: IncomingHttpHeaders): void {
  if (!tokenMatches(token, presentedToken(headers))) {
    throw new HttpError(
      401,
      'UNAUTHORIZED',
      'missing or wrong token: send Authorization: Bearer <token>, the token rt.serve() or lanevisor serve printed',
    );
  }
}

/** The Host values this server answers to: anything else is a DNS-rebinding attempt. */
export function allowedHosts(boundHost: string, port: number): Set<string> {
  const bound = boundHost.includes(':') ? `[${boundHost}]` : boundHost;
  return new Set([bound, 'localhost', '127.0.0.1', '[::1]'].map((name) => `${name}:${port}`.toLowerCase()));
}

export function assertHost(allowed: ReadonlySet<string>, host: string | undefined): void {
  if (host === undefined || !allowed.has(host.toLowerCase())) {
    throw new HttpError(
      403,
      'FORBIDDEN',
      'this server answers only to its own address (localhost or the address it is bound to) as Host',
    );
  }
}

/** A browser's Origin, when present, must be the server's own (a page elsewhere may not drive a terminal). */
export function assertOrigin(allowed: ReadonlySet<string>, origin: string | undefined): void {
  if (origin === undefined) return;
  const match = /^http:\/\/([^/]+)$/i.exec(origin);
  if (match === null || !allowed.has((match[1] as string).toLowerCase())) {
    throw new HttpError(403, 'FORBIDDEN', 'a WebSocket from another origin may not open a terminal stream');
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
