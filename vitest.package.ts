/**
 * The test configuration every package (and the node) shares: one place for timeouts, reporters and
 * the coverage thresholds. A package's `vitest.config.ts` calls it, naming only what it leaves out of
 * coverage beyond the common exclusions.
 */
import { defineConfig } from 'vitest/config'

export function packageTestConfig(options: { readonly coverageExclude?: readonly string[] } = {}) {
  return defineConfig({
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
        exclude: ['src/testing/**', 'src/index.ts', 'src/**/types.ts', ...(options.coverageExclude ?? [])],
        thresholds: { lines: 80, functions: 80, branches: 75, statements: 80 },
      },
    },
  })
}
