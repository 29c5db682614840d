import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // xstate's development build carries extra runtime checks.
    conditions: ['development'],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // CI asks for a machine-readable report to print its "N passed, N failed" line.
    reporters: process.env.LANEVISOR_TEST_REPORT
      ? ['default', ['json', { outputFile: process.env.LANEVISOR_TEST_REPORT }]]
      : ['default'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['index.ts', 'actors/**/*.ts', 'machines/**/*.ts', 'supervision/**/*.ts', 'bus/**/*.ts', 'cli/**/*.ts'],
      exclude: ['test/**', 'bench/**', 'dist/**', 'scripts/**'],
      reporter: ['text-summary', 'text'],
      thresholds: {
        lines: 85,
        'machines/**': { lines: 95 },
      },
    },
  },
});
