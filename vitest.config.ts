import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles dist/ again when lib/ is newer: the child-process tests run dist/.
    globalSetup: ['test/helpers/fresh-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // At least two files at a time (vitest's default is one less than the cores): many files
    // spend much of their time waiting for child processes and workers.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
