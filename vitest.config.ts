import * as os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // forks: each test file in its own process; the addon is context-aware, threads would work too.
    pool: 'forks',
    // At least two files at once: vitest's default (cores - 1) runs one at a time on a 2-core machine,
    // where much of a file's time is single-threaded JavaScript or a child process waiting.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
