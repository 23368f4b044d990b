import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Only to stop a hung test: CPU-heavy tests (property tests, real crypto) on a loaded 2-core machine
    // can take far longer than vitest's 5 s default. Speed is measured in benchmarks, never here.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: './test-results/vitest.json' },
    include: ['test/**/*.test.ts'],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // The compliance suites are test code; they are measured through the tests that run them.
      exclude: ['src/testing/**', 'src/index.ts', 'src/**/types.ts', 'src/**/port.ts'],
      thresholds: { lines: 80, functions: 80, branches: 75, statements: 80 },
    },
  },
})
