import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // forks: each test file in its own process; the addon is context-aware, threads would work too.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
