import { join } from 'node:path';
import type { Command } from 'commander';
import { createRuntime } from '../../index.js';
import { CliExit, type CliIo, UsageError } from '../io.js';
import { addNatsOptions, joinNats, natsTargetOf } from '../nats-view.js';
import { addRepoOptions, type RepoFlags, runtimeOptionsOf, startInspection } from '../options.js';
import { wholeNumber } from '../parse.js';
import { EXIT_CODE_OUTPUT_CLOSED, StopSignals } from '../stop-signals.js';

interface ServeFlags extends RepoFlags {
  readonly port?: number;
  readonly host?: string;
  readonly keepTerminals?: boolean;
  readonly cleanOnExit?: boolean;
  readonly nats?: string;
  readonly natsPrefix?: string;
}

const HIGHEST_PORT = 65_535;
/** The token `serve` keeps in the state directory (0600) from one run to the next. */
const SERVE_TOKEN_FILE = 'serve-token';

const EXAMPLES = `
Examples:
  lanevisor serve
  lanevisor serve --port 7420 --json
  lanevisor serve --keep-terminals
  lanevisor serve --nats nats://nats.internal:4222   every runtime on that NATS in one dashboard

Prints the address to open (it carries the token once; the page then keeps it in a cookie) and
serves until Ctrl-C or SIGTERM. On exit the lanes are kept and their terminals ended; with
--keep-terminals the terminals go on in the terminal host for the next serve to take over; with
--clean-on-exit the lanes are cleaned (uncommitted work saved to a salvage ref). The API is
described at /api/openapi.json; see docs/api.md.`;

/**
 * `lanevisor serve`: a runtime with its HTTP, SSE and WebSocket server, until SIGINT or SIGTERM.
 * Being stopped is how a server ends, so it exits 0 then (after the shutdown it asked for).
 */
export function addServeCommand(program: Command, io: CliIo): void {
  addNatsOptions(
    addRepoOptions(program.command('serve')),
    'join that NATS, and show and drive the lanes of every runtime on it',
  )
    .description('run a runtime on the repository with the HTTP API and the dashboard until stopped')
    .option('--port <n>', 'the port (default: any free one)', wholeNumber('port', 0, HIGHEST_PORT))
    .option('--host <address>', 'the address to listen on (default 127.0.0.1; anything else is reachable by others)')
    .option('--keep-terminals', "leave the lanes' terminals running for the next serve to re-adopt")
    .option('--clean-on-exit', 'clean the lanes when stopped instead of keeping them')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: ServeFlags) => {
      if (flags.keepTerminals && flags.cleanOnExit) {
        throw new UsageError('give --keep-terminals or --clean-on-exit, not both');
      }
      const stop = new StopSignals(io, 'stopping the server and the runtime');
      const inspection = await startInspection(flags, io);
      try {
        const rt = await createRuntime({ ...runtimeOptionsOf(flags, io), ...inspection.options });
        let nats: Awaited<ReturnType<typeof joinNats>> | undefined;
        try {
          const target = natsTargetOf(flags);
          if (target !== undefined) nats = await joinNats(rt, target);
          const server = await rt.serve({
            ...(nats === undefined ? {} : { remote: nats.remote }),
            ...(flags.port === undefined ? {} : { port: flags.port }),
            ...(flags.host === undefined ? {} : { host: flags.host }),
            // A restarted serve keeps its token, so an open dashboard reconnects by itself.
            tokenFile: join(rt.stateDir, SERVE_TOKEN_FILE),
          });
          if (flags.json) io.stdout(`${JSON.stringify({ url: server.url, token: server.token, pid: process.pid })}\n`);
          else io.stdout(`lanevisor: serving ${rt.repo} at ${server.url}?token=${server.token}\n`);
          await new Promise<void>((resolve) => stop.onStop(() => resolve()));
        } finally {
          await nats?.close();
          await rt.shutdown(flags.cleanOnExit ? { cleanupLanes: true } : flags.keepTerminals ? { keepPtys: true } : {});
        }
      } finally {
        stop.dispose();
        await inspection.close();
      }
      // Ctrl-C and SIGTERM are how a server is meant to end (0); a closed output is not.
      if (stop.signal === 'SIGPIPE') throw new CliExit(EXIT_CODE_OUTPUT_CLOSED);
    });
}
