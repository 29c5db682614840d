import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LanevisorError } from '../../index.js';
import { connectNats, discoverRuntimes } from '../../nats/index.js';
import { type NatsServerFixture, startNatsServer } from '../support/nats-server.js';
import { createRuntimeFixture, type RuntimeFixture } from '../support/runtime-fixture.js';

/** A NATS that requires TLS, with a certificate for 127.0.0.1 made for the test (openssl). */
describe('NATS over TLS', () => {
  let dir: string;
  let nats: NatsServerFixture;
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanevisor-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    nats = await startNatsServer({
      args: ['--tls', '--tlscert', join(dir, 'cert.pem'), '--tlskey', join(dir, 'key.pem')],
    });
    fixture = await createRuntimeFixture();
  }, 60_000);

  afterAll(async () => {
    await fixture?.dispose();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('connects with tls:// and the CA given, and refuses a server it cannot verify', async () => {
    const url = `tls://127.0.0.1:${nats.port}`;
    const caFile = join(dir, 'cert.pem');
    const link = await connectNats(fixture.rt, { servers: url, tls: { caFile } });
    try {
      const found = await discoverRuntimes({ servers: url, tls: { caFile } });
      expect(found.map((runtime) => runtime.runtimeId)).toEqual([fixture.rt.id]);
      await fixture.rt.createLane({ label: 'over-tls' });
      await link.flush(5_000);
      expect(link.stats()).toMatchObject({ buffered: 0, dropped: 0, connected: true });
      expect(link.stats().published).toBeGreaterThan(0);
    } finally {
      await link.close();
    }
    // Without the CA the self-signed certificate is not trusted: nothing is sent in the clear either.
    const refused = (await connectNats(fixture.rt, { servers: url }).catch((error) => error)) as LanevisorError;
    expect(refused.code).toBe('UNAVAILABLE');
  }, 30_000);
});
