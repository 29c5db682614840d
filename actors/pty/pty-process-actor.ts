import { fromCallback } from 'xstate';
import { errorMessage } from '../../bus/errors.js';
import type { PtyProcessInput } from '../../machines/pty.machine.js';
import type { PtyProcessCommand, PtyProcessEvent } from '../../machines/pty-protocol.js';
import { readProcStat } from '../process/proc.js';
import type { ProcessTreeSelector } from '../process/process-tree.js';
import { resolveExecutable } from '../process/resolve-executable.js';
import { type SignalRecord, TreeSignaller } from '../process/tree-signaller.js';
import type { PtyBackend, PtySpawnRequest } from './backend.js';
import { PacedWriter } from './paced-writer.js';

/** A started PTY, as its controller needs it: identity for the registry, and the input side. */
export interface SpawnedPty {
  readonly pid: number;
  /** forkpty makes the child the leader of a new session and process group. */
  readonly pgid: number;
  readonly sid: number;
  /** From /proc/<pid>/stat, to tell this process from a later one with the same pid. */
  readonly startTime: number;
  readonly ptsName: string;
  /** The file that was executed. */
  readonly file: string;
  readonly input: PacedWriter;
}

/** Where the process actor hands what does not go through the machine: the hot data path and facts. */
export interface PtyProcessSink {
  spawned(pty: SpawnedPty): void;
  data(chunk: string): void;
  signaled(record: SignalRecord): void;
}

export interface PtyProcessOptions {
  readonly backend: PtyBackend;
  /** `file` may be a bare command name: it is resolved against the request's PATH. */
  readonly request: PtySpawnRequest;
  /** The variable (and value) that marks every process started in this PTY. */
  readonly tag: { readonly name: string; readonly value: string };
  readonly maxPendingInputBytes: number;
  readonly sink: PtyProcessSink;
}

/**
 * The effectful half of a PTY actor: spawns the process when invoked, streams its output to the
 * sink, and carries out the machine's commands (pause, resize, signals, the stop of every process
 * of the PTY). Its cleanup is the synchronous last resort: SIGKILL and release of descriptors.
 * What to run is looked up by the PTY's id, so one logic (and one provided machine) serves every
 * PTY of a host: providing a machine per PTY costs more than the rest of a spawn.
 */
export function createPtyProcessLogic(lookup: (ptyId: string) => PtyProcessOptions | undefined) {
  return fromCallback<PtyProcessCommand, PtyProcessInput>(({ input: { ptyId }, sendBack: send, receive }) => {
    const sendBack = (event: PtyProcessEvent): void => send(event);
    const options = lookup(ptyId);
    if (options === undefined) {
      sendBack({ type: 'SPAWN_FAILED', message: `nothing is registered to run for ${ptyId}` });
      return;
    }
    const { request, sink } = options;
    const file = resolveExecutable(request.file, request.cwd, request.env.PATH);
    if (file === undefined) {
      sendBack({ type: 'SPAWN_FAILED', message: `command not found or not executable: ${request.file}` });
      return;
    }
    let child: ReturnType<PtyBackend['spawn']>;
    try {
      child = options.backend.spawn({ ...request, file });
    } catch (error) {
      sendBack({ type: 'SPAWN_FAILED', message: `could not start ${file}: ${errorMessage(error)}` });
      return;
    }
    const input = new PacedWriter(child, options.maxPendingInputBytes);
    const leader = { pid: child.pid, startTime: readProcStat(child.pid)?.startTime ?? -1 };
    const selector: ProcessTreeSelector = { leader, tag: options.tag };
    const signaller = new TreeSignaller(selector, sink.signaled, () => sendBack({ type: 'TREE_GONE' }));
    child.onData(sink.data);
    child.onExit((exit) => {
      input.close();
      sendBack({ type: 'EXITED', exitCode: exit.exitCode, signal: exit.signal });
    });
    sink.spawned({
      pid: child.pid,
      pgid: child.pid,
      sid: child.pid,
      startTime: leader.startTime,
      ptsName: child.ptsName,
      file,
      input,
    });
    sendBack({ type: 'SPAWNED', pid: child.pid });

    receive((command) => {
      switch (command.type) {
        case 'PAUSE':
          child.pause();
          break;
        case 'RESUME':
          child.resume();
          break;
        case 'RESIZE':
          child.resize(command.cols, command.rows);
          break;
        case 'SIGNAL':
          signaller.signalGroup(command.signal as NodeJS.Signals);
          break;
        case 'SIGNAL_TREE':
          signaller.signal(command.signals as NodeJS.Signals[]);
          break;
        case 'KILL_TREE':
          signaller.kill();
          break;
      }
    });

    return () => {
      signaller.stop();
      input.close();
      child.dispose();
    };
  });
}
