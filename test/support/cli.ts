import type { CliIo } from '../../cli/io.js';
import { runCli } from '../../cli/program.js';

/** Runs the `lanevisor` command in this process, capturing what it writes. */
export async function runLanevisor(
  argv: string[],
  io: Partial<Pick<CliIo, 'env' | 'cwd' | 'isTTY'>> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: io.env ?? {},
    ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
    ...(io.isTTY === undefined ? {} : { isTTY: io.isTTY }),
  });
  return { code, stdout, stderr };
}
