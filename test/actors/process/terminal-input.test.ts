import { spawn as spawnPty } from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { waitsForTerminalInput } from '../../../actors/process/terminal-input.js';
import { waitUntil } from '../../support/wait.js';

const terminals: { kill(signal?: string): void }[] = [];
afterEach(() => {
  for (const terminal of terminals.splice(0)) terminal.kill('SIGKILL');
});

/** A program in a real terminal, once it printed `ready`. */
async function inTerminal(command: string, args: string[]) {
  const terminal = spawnPty(command, args, { cols: 80, rows: 24, env: { ...process.env, TERM: 'xterm' } });
  terminals.push(terminal);
  let output = '';
  terminal.onData((chunk) => {
    output += chunk;
  });
  await waitUntil(() => output.includes('ready'), `${command} to start`, 10_000);
  return terminal;
}

describe('waiting for terminal input', () => {
  it('is true for a prompt reading the terminal, REPLs (epoll, select), a pager and an editor; false for a busy or sleeping program', async () => {
    const prompt = await inTerminal('bash', ['-c', 'echo ready; read answer']);
    await waitUntil(() => waitsForTerminalInput(prompt.pid) === true, 'the read prompt to be seen waiting');
    const nodeRepl = await inTerminal(process.execPath, ['-e', 'console.log("ready"); require("repl").start("> ")']);
    await waitUntil(() => waitsForTerminalInput(nodeRepl.pid) === true, 'the node REPL to be seen waiting');
    const python = await inTerminal('python3', ['-i', '-c', 'print("ready")']);
    await waitUntil(() => waitsForTerminalInput(python.pid) === true, 'the python REPL to be seen waiting');
    const pager = await inTerminal('bash', ['-c', '(echo ready; seq 1 500) | less']);
    await waitUntil(() => waitsForTerminalInput(pager.pid) === true, 'the pager to be seen waiting');
    const editor = await inTerminal('vim', ['-u', 'NONE', '-N', '-n', '+call setline(1, "ready")']);
    await waitUntil(() => waitsForTerminalInput(editor.pid) === true, 'vim to be seen waiting');

    const sleeping = await inTerminal('bash', ['-c', 'echo ready; sleep 30']);
    const busy = await inTerminal('bash', ['-c', 'echo ready; while :; do :; done']);
    // A job in the foreground of an interactive shell: the shell is not what is waiting.
    const job = await inTerminal('bash', ['--norc', '--noprofile', '-i', '-c', 'echo ready; sleep 30']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waitsForTerminalInput(sleeping.pid)).toBe(false);
    expect(waitsForTerminalInput(busy.pid)).toBe(false);
    expect(waitsForTerminalInput(job.pid)).toBe(false);
    expect(waitsForTerminalInput(2 ** 22 + 1)).toBeUndefined();
  });
});
