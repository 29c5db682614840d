#!/usr/bin/env node
import { processIo } from './process-io.js';
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
void runCli(process.argv.slice(2), processIo()).then((code) => {
  settled = true;
  process.exitCode = code;
});
