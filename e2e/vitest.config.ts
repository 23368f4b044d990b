import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: './test-results/vitest.json' },
    include: ['scenarios/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Scenarios start whole processes: one file at a time keeps a 2-core machine responsive.
    fileParallelism: false,
  },
})
