import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { attachTerminal, type TerminalAttachment } from '../../index.js';
import { CliExit, type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_SIGNAL_BASE } from '../io.js';
import { addNatsOptions, attachOverNats, natsTargetOf } from '../nats-view.js';
import { addRepoOptions, type RepoFlags } from '../options.js';
import { EXIT_CODE_OF_SIGNAL } from '../stop-signals.js';

/** Ctrl-], as telnet and `docker attach`'s neighbours use it. */
export const DEFAULT_DETACH_KEY = 'ctrl-]';
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

const EXAMPLES = `
Examples:
  lanevisor attach fix-login                  the lane's first terminal
  lanevisor attach fix-login --pty pty_0123   one of its terminals
  lanevisor attach fix-login --read-only      watch, never type
  lanevisor attach spike --detach-key ctrl-q
  lanevisor attach fix-login --nats nats://nats.internal:4222   on whichever machine runs it

The terminal shows the PTY's screen at once (a running vim included), then what it prints; what
you type goes to it, and it takes your terminal's size (the most recent attach or resize wins).
The detach key leaves the PTY running and exits 0; when the PTY ends, attach exits with its code.
It works while a runtime (in any process) holds the repository, and while none is alive.`;

interface AttachFlags extends RepoFlags {
  readonly nats?: string;
  readonly natsPrefix?: string;
  readonly pty?: string;
  readonly readOnly?: boolean;
  readonly detachKey: number;
}

/** `ctrl-]`, `ctrl-q`, `^]`: the byte a terminal sends for it. */
export function detachKeyOf(value: string): number {
  const match = /^(?:ctrl-|\^)([a-z@[\\\]^_])$/i.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('expected a control key such as ctrl-] or ctrl-q');
  return (match[1] as string).toUpperCase().charCodeAt(0) & 0x1f;
}

export function addAttachCommand(program: Command, io: CliIo): void {
  addNatsOptions(
    addRepoOptions(program.command('attach'), { trace: false }),
    'find the lane on any runtime announced on that NATS (another machine too)',
  )
    .description("connect this terminal to a lane's terminal (through the terminal host)")
    .argument('<lane>', 'lane label or id')
    .option('--pty <id>', "the PTY (default: the lane's first)")
    .option('--read-only', 'watch without typing or resizing')
    .option(
      '--detach-key <key>',
      `leave the PTY running (default ${DEFAULT_DETACH_KEY})`,
      detachKeyOf,
      detachKeyOf(DEFAULT_DETACH_KEY),
    )
    .addHelpText('after', EXAMPLES)
    .action(async (lane: string, flags: AttachFlags) => {
      const code = await attach(lane, flags, io);
      if (code !== EXIT_OK) throw new CliExit(code);
    });
}

async function attach(lane: string, flags: AttachFlags, io: CliIo): Promise<number> {
  const size = io.isTTY ? io.terminalSize?.() : undefined;
  let finish: (code: number, message: string) => void = () => undefined;
  const ended = new Promise<number>((resolve) => {
    finish = (code, message) => {
      // What the PTY drew is not this terminal's any more.
      io.stdout(CLEAR_SCREEN);
      io.stderr(`lanevisor: ${message}\r\n`);
      resolve(code);
    };
  });
  let attached: TerminalAttachment | undefined;
  const shown = (text: string) => {
    io.stdout(text);
    attached?.shown(text.length);
  };
  const target = {
    lane,
    ...(flags.pty ? { pty: flags.pty } : {}),
    readOnly: flags.readOnly === true,
    ...(size === undefined ? {} : { cols: size.columns, rows: size.rows }),
  };
  const nats = natsTargetOf(flags);
  const open: typeof attachTerminal = (options, events) =>
    nats === undefined ? attachTerminal(options, events) : attachOverNats(nats, target, events);
  attached = await open(
    {
      repo: flags.repo ?? io.cwd ?? process.cwd(),
      ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
      ...target,
    },
    {
      output: (data) => shown(data),
      redraw: (screen) => io.stdout(`${CLEAR_SCREEN}${screen}`),
      exited: (exit) => {
        const code = exit.exitCode ?? EXIT_SIGNAL_BASE + (osConstants.signals[exit.signal as NodeJS.Signals] ?? 0);
        finish(code, `the PTY ended (${exit.exitCode === null ? exit.signal : `exit ${exit.exitCode}`})`);
      },
      lost: (reason) =>
        finish(
          EXIT_FAILURE,
          `${reason}; the PTY may still run (lanevisor attach ${lane}${nats === undefined ? '' : ' --nats URL'} to try again)`,
        ),
    },
  );
  const terminal = attached;
  const name = terminal.label ?? terminal.laneId;
  io.stderr(
    `lanevisor: attached to lane ${name}, PTY ${terminal.ptyId}${flags.readOnly ? ' (read-only)' : ''}; ${keyName(flags.detachKey)} detaches\n`,
  );
  io.stdout(`${CLEAR_SCREEN}${terminal.screen}`);

  const stdin = io.stdin as
    | (NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => void })
    | undefined;
  const raw = stdin?.isTTY === true && typeof stdin.setRawMode === 'function';
  if (raw) stdin?.setRawMode?.(true);
  const onInput = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const at = bytes.indexOf(flags.detachKey);
    const typed = at < 0 ? bytes : bytes.subarray(0, at);
    if (!flags.readOnly && typed.byteLength > 0) terminal.write(typed);
    if (at >= 0)
      finish(
        EXIT_OK,
        `detached from lane ${name}; its PTY goes on (lanevisor attach ${name}${nats === undefined ? '' : ' --nats URL'} to come back)`,
      );
  };
  stdin?.on('data', onInput);
  stdin?.resume();
  const stopResize = flags.readOnly
    ? undefined
    : io.onResize?.(() => {
        const now = io.terminalSize?.();
        if (now) terminal.resize(now.columns, now.rows);
      });
  const onTerm = () => finish(EXIT_CODE_OF_SIGNAL.SIGTERM, 'SIGTERM: detached; the PTY goes on');
  process.on('SIGTERM', onTerm);
  try {
    return await ended;
  } finally {
    process.off('SIGTERM', onTerm);
    stopResize?.();
    stdin?.off('data', onInput);
    if (raw) stdin?.setRawMode?.(false);
    stdin?.pause();
    await terminal.detach();
  }
}

function keyName(byte: number): string {
  return `Ctrl-${String.fromCharCode(byte + 64)}`;
}
