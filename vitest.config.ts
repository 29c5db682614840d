import { defineConfig } from 'vitest/config';

/**
 * Two projects: every test against the terminal host (`pty.host: 'process'`, the default), and
 * the tests that run terminals again with them in the test's own process (`inline`). One set of
 * tests, two backends behind the same seam.
 */
const TERMINAL_TESTS = [
  'test/supervision/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/system/**/*.test.ts',
  'test/actors/pty/*.test.ts',
];
/** Tests of what only the terminal host does (they ask for it whatever the default): once is enough. */
const HOST_ONLY_TESTS = ['test/supervision/recovery/adoption.test.ts', 'test/cli/attach.test.ts'];
/**
 * Tests that load the machine on purpose (a flooding PTY and 40 clients for 10 s): run after the
 * others, alone, so that their load never turns another test's wait into a timeout.
 */
const LOAD_TESTS = ['test/server/load.test.ts'];

export default defineConfig({
  resolve: {
    // xstate's development build carries extra runtime checks.
    conditions: ['development'],
  },
  test: {
    // CI asks for a machine-readable report to print its "N passed, N failed" line.
    reporters: process.env.LANEVISOR_TEST_REPORT
      ? ['default', ['json', { outputFile: process.env.LANEVISOR_TEST_REPORT }]]
      : ['default'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'host',
          include: ['test/**/*.test.ts'],
          exclude: LOAD_TESTS,
          env: { LANEVISOR_PTY_HOST: 'process' },
        },
      },
      {
        extends: true,
        test: {
          name: 'inline',
          include: TERMINAL_TESTS,
          exclude: HOST_ONLY_TESTS,
          env: { LANEVISOR_PTY_HOST: 'inline' },
        },
      },
      {
        extends: true,
        test: {
          name: 'load',
          include: LOAD_TESTS,
          env: { LANEVISOR_PTY_HOST: 'process' },
          sequence: { groupOrder: 1 },
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: [
        'index.ts',
        'actors/**/*.ts',
        'machines/**/*.ts',
        'supervision/**/*.ts',
        'bus/**/*.ts',
        'cli/**/*.ts',
        'server/**/*.ts',
        'nats/**/*.ts',
      ],
      exclude: ['test/**', 'bench/**', 'dist/**', 'scripts/**'],
      reporter: ['text-summary', 'text'],
      thresholds: {
        lines: 85,
        'machines/**': { lines: 95 },
      },
    },
  },
});
