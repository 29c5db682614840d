/**
 * The least a terminal in another process can cost: the terminal host's own PTY layer
 * (node-pty-driver.ts: node-pty's fork, a synchronous write to the master, its read stream)
 * behind a bare Unix socket, in a second Node process — no framing, no sessions, no mirror, no
 * retained output. Input → echo through it, next to raw node-pty in the benchmark's process,
 * says what the second process costs; our host against it, what the host's own work costs.
 * Run as `node echo-floor-host.js <socket path> <shell script>`; prints `up` when it listens.
 */
import { createServer, type Socket } from 'node:net';
import { nodePtyDriver } from '../actors/pty/node-pty-driver.js';

const [socketPath, script] = process.argv.slice(2);
if (socketPath === undefined || script === undefined) {
  console.error('usage: echo-floor-host.js <socket path> <shell script>');
  process.exit(2);
}

const child = nodePtyDriver.spawn({
  file: '/bin/bash',
  args: ['--norc', '--noprofile', '-c', script],
  cwd: process.cwd(),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  cols: 80,
  rows: 24,
});
let client: Socket | undefined;
// What the shell prints before the benchmark connects (its ready line) waits for it.
const early: Buffer[] = [];
child.onData((chunk) => {
  if (client === undefined) early.push(chunk);
  else client.write(chunk);
});
child.onExit(() => process.exit(0));

const server = createServer((socket) => {
  client = socket;
  if (early.length > 0) socket.write(Buffer.concat(early));
  // A trip's input is one byte: a short write (a full terminal) cannot happen here.
  socket.on('data', (data) => child.write(data));
  socket.on('error', () => undefined);
  // Its benchmark is done (or died): nothing is left to serve.
  socket.on('close', () => {
    child.dispose();
    process.exit(0);
  });
});
server.listen(socketPath, () => console.log('up'));
process.on('SIGTERM', () => {
  child.dispose();
  process.exit(0);
});
