#!/usr/bin/env node
/**
 * The terminal host's entry: `node main.js <stateDir>`. Started by a runtime detached, in its own
 * session, with stdio not tied to the runtime (a pipe to a dead parent would kill it with EPIPE);
 * it logs to `<stateDir>/host.log`. It loads node-pty, the terminal mirror and the framing only:
 * no XState, no runtime code.
 */
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { nodePtyDriver } from '../node-pty-driver.js';
import { ensureToken, hostPathsOf } from './host-paths.js';
import { HostServer } from './host-server.js';

const stateDir = resolve(process.argv[2] ?? '');
const paths = hostPathsOf(stateDir);
const log = (line: string) => {
  try {
    appendFileSync(paths.logFile, `${new Date().toISOString()} host ${process.pid}: ${line}\n`, { mode: 0o600 });
  } catch {
    // The state directory is gone: the idle check ends the host.
  }
};
process.title = 'lanevisor-host';
process.on('uncaughtException', (error) => log(`uncaught: ${error.stack ?? error.message}`));
process.on('SIGHUP', () => undefined);

const server = new HostServer({
  stateDir,
  paths,
  token: ensureToken(paths.tokenFile),
  driver: nodePtyDriver,
  log,
  onIdle: () => void server.close().then(() => process.exit(0)),
});
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (!(await server.listen())) process.exit(0);
