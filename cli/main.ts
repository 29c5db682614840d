#!/usr/bin/env node
import { runCli } from './program.js';

let settled = false;
// A command whose work stopped without finishing (nothing left for it to wait on) would otherwise
// end with Node's silent exit code 13 for an unsettled promise.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write(
    'lanevisor: internal error: the command stopped before it finished; run it again with LANEVISOR_DEBUG=1 and report what it prints\n',
  );
  process.exitCode = 1;
});
void runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  stdin: process.stdin,
  terminalSize: () => ({ columns: process.stdout.columns ?? 80, rows: process.stdout.rows ?? 24 }),
  onResize: (listener) => {
    process.stdout.on('resize', listener);
    return () => process.stdout.off('resize', listener);
  },
}).then((code) => {
  settled = true;
  process.exitCode = code;
});
