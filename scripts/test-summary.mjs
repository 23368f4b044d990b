// Adds up the JSON reports that every vitest run writes to <package>/test-results/vitest.json and
// prints one closing line, "Tests: N passed, N failed". Exits 1 when a test failed or none ran.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const roots = ['packages', 'apps'].flatMap((d) =>
  existsSync(d) ? readdirSync(d).map((p) => join(d, p)) : [],
)
roots.push('e2e', 'fuzz')
let passed = 0
let failed = 0
let skipped = 0
for (const dir of roots) {
  const file = join(dir, 'test-results', 'vitest.json')
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0)
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  console.log(`${dir}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
}
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
