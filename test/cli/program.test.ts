import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../../cli/program.js';
import { runLanevisor } from '../support/cli.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => runLanevisor(argv, { env });

describe('lanevisor command', () => {
  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(await run(['--version'])).toEqual({ code: EXIT_OK, stdout: `${version}\n`, stderr: '' });
  });

  it('prints help with no arguments or --help', async () => {
    for (const argv of [[], ['--help'], ['-h']]) {
      const result = await run(argv);
      expect(result.code).toBe(EXIT_OK);
      expect(result.stdout).toMatch(/^Usage: lanevisor /);
      expect(result.stdout).toMatch(/--version/);
      expect(result.stdout).toMatch(/reconcile/);
    }
  });

  it('fails with one line on stderr for unknown commands and options, with a stack only when debugging', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown).toMatchObject({ code: EXIT_USAGE, stdout: '' });
    expect(unknown.stderr).toBe("lanevisor: unknown command 'frobnicate'; see lanevisor --help\n");
    const badOption = await run(['--nope']);
    expect(badOption.code).toBe(EXIT_USAGE);
    expect(badOption.stderr.trim().split('\n')).toHaveLength(1);
    const debug = await run(['--nope'], { LANEVISOR_DEBUG: '1' });
    expect(debug.stderr.split('\n').length).toBeGreaterThan(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
