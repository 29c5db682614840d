/**
 * The least a terminal in another process can cost: the terminal host's own PTY layer
 * (node-pty-driver.ts: node-pty's fork, a synchronous write to the master, its read stream)
 * behind a bare Unix socket, in a second Node process — no framing, no sessions, no mirror, no
 * retained output. Input → echo and a flood through it, next to raw node-pty in the benchmark's
 * process, say what the second process costs; our host against it, what the host's own work
 * costs. Run as `node floor-host.js <socket path> <shell script>`; prints `up` when it listens.
 * When the script ends, everything it printed is sent and the socket ended before this exits.
 */
import { createServer, type Socket } from 'node:net';
import { nodePtyDriver } from '../actors/pty/node-pty-driver.js';

/** How often it checks that the benchmark that started it is still there. */
const PARENT_CHECK_MS = 500;
/** Taken first: a benchmark that dies while this starts must not leave it running. */
const parent = process.ppid;

const [socketPath, script] = process.argv.slice(2);
if (socketPath === undefined || script === undefined) {
  console.error('usage: floor-host.js <socket path> <shell script>');
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
// The driver reports the exit after the terminal is drained; a flood's tail may still be queued
// in this process, so the socket is ended (and flushed) first.
child.onExit(() => {
  if (client === undefined) process.exit(0);
  else client.end(() => process.exit(0));
});

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
// In a session of its own, a benchmark that died (Ctrl-C included) takes nothing with it: this
// leaves once its parent has gone, connected or not.
setInterval(() => {
  if (process.ppid !== parent) {
    child.dispose();
    process.exit(0);
  }
}, PARENT_CHECK_MS).unref();
process.on('SIGTERM', () => {
  child.dispose();
  process.exit(0);
});
