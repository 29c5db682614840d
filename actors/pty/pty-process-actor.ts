import { fromCallback } from 'xstate';
import { errorMessage } from '../../bus/errors.js';
import type { PtyProcessInput } from '../../machines/pty.machine.js';
import type { PtyProcessCommand, PtyProcessEvent } from '../../machines/pty-protocol.js';
import type { SignalRecord } from '../process/tree-signaller.js';
import type { PtyBackend, PtySession, PtyStartRequest } from './backend.js';

/** Where the process actor hands what does not go through the machine: the session, the hot data path and facts. */
export interface PtyProcessSink {
  spawned(session: PtySession): void;
  data(chunk: string, bytes?: number): void;
  signaled(record: SignalRecord): void;
  /** Someone else resized the terminal. */
  resized(cols: number, rows: number): void;
}

export interface PtyProcessOptions {
  readonly backend: PtyBackend;
  /** What each generation starts (its owner may bring its record up to date between generations). */
  request: PtyStartRequest;
  readonly sink: PtyProcessSink;
  /** The next generation takes over the terminal a dead runtime left instead of starting one (then it is cleared). */
  adopt?: boolean;
}

/**
 * The effectful half of a PTY actor: starts the terminal through the backend when invoked, streams
 * its output to the sink, and carries out the machine's commands (pause, resize, signals, the stop
 * of every process of the PTY). What the backend reports before the start has resolved is held
 * back, so the machine always hears SPAWNED first. Its cleanup is the last resort: the session is
 * closed (SIGKILL, descriptors released), also when it is stopped while the start is under way.
 * What to run is looked up by the PTY's id, so one logic (and one provided machine) serves every
 * PTY of a runtime: providing a machine per PTY costs more than the rest of a spawn.
 */
export function createPtyProcessLogic(lookup: (ptyId: string) => PtyProcessOptions | undefined) {
  return fromCallback<PtyProcessCommand, PtyProcessInput>(({ input: { ptyId }, sendBack: send, receive }) => {
    const sendBack = (event: PtyProcessEvent): void => send(event);
    const options = lookup(ptyId);
    if (options === undefined) {
      sendBack({ type: 'SPAWN_FAILED', message: `nothing is registered to run for ${ptyId}` });
      return;
    }
    const { sink } = options;
    let session: PtySession | undefined;
    let stopped = false;
    const commands: PtyProcessCommand[] = [];
    // Endings reported before SPAWNED went out wait for it; so do the machine's commands for the session.
    let held: PtyProcessEvent[] | undefined = [];
    const report = (event: PtyProcessEvent): void => {
      if (stopped) return;
      if (held) held.push(event);
      else sendBack(event);
    };
    const adopting = options.adopt === true && options.backend.adopt !== undefined;
    options.adopt = false;
    const begin = adopting
      ? (options.backend.adopt as NonNullable<PtyBackend['adopt']>).bind(options.backend)
      : options.backend.start.bind(options.backend);
    begin(options.request, {
      data: (chunk, bytes) => sink.data(chunk, bytes),
      signaled: (record) => sink.signaled(record),
      resized: (cols, rows) => sink.resized(cols, rows),
      exited: (exit) => report({ type: 'EXITED', exitCode: exit.exitCode, signal: exit.signal }),
      treeGone: () => report({ type: 'TREE_GONE' }),
      lost: (reason) => report({ type: 'LOST', reason }),
    }).then(
      (started) => {
        if (stopped) {
          started.close();
          return;
        }
        session = started;
        sink.spawned(started);
        sendBack({ type: 'SPAWNED', pid: started.started.pid });
        const waiting = held ?? [];
        held = undefined;
        for (const command of commands.splice(0)) carryOut(started, command);
        for (const event of waiting) sendBack(event);
      },
      (error: unknown) => {
        if (!stopped) sendBack({ type: 'SPAWN_FAILED', message: errorMessage(error) });
      },
    );

    receive((command) => {
      if (session) carryOut(session, command);
      else commands.push(command);
    });

    return () => {
      stopped = true;
      session?.close();
    };
  });
}

function carryOut(session: PtySession, command: PtyProcessCommand): void {
  switch (command.type) {
    case 'PAUSE':
      session.pause();
      break;
    case 'RESUME':
      session.resume();
      break;
    case 'RESIZE':
      session.resize(command.cols, command.rows);
      break;
    case 'SIGNAL':
      session.signalGroup(command.signal);
      break;
    case 'SIGNAL_TREE':
      session.signalTree(command.signals);
      break;
    case 'KILL_TREE':
      session.killTree();
      break;
  }
}
