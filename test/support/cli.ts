import type { CliIo } from '../../cli/io.js';
import { runCli } from '../../cli/program.js';

/** Runs the `lanevisor` command in this process, capturing what it writes. */
export async function runLanevisor(
  argv: string[],
  io: Partial<Pick<CliIo, 'env' | 'cwd' | 'isTTY' | 'stdin' | 'terminalSize' | 'onResize'>> & {
    /** Called with each piece written to stdout, as it is written. */
    readonly onStdout?: (text: string) => void;
  } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
      io.onStdout?.(text);
    },
    stderr: (text) => {
      stderr += text;
    },
    env: io.env ?? {},
    ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
    ...(io.isTTY === undefined ? {} : { isTTY: io.isTTY }),
    ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
    ...(io.terminalSize === undefined ? {} : { terminalSize: io.terminalSize }),
    ...(io.onResize === undefined ? {} : { onResize: io.onResize }),
  });
  return { code, stdout, stderr };
}
