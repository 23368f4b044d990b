// Adds up the JSON reports that every vitest run writes to <package>/test-results/vitest.json and
// prints one closing line, "Tests: N passed, N failed". Exits 1 when a test failed or none ran.
// Each failed test (and each test file that could not run) is named here too, with the first lines of
// its failure: this summary is the last thing a CI log shows, and often the only part of it kept.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const roots = ['packages', 'apps'].flatMap((d) =>
  existsSync(d) ? readdirSync(d).map((p) => join(d, p)) : [],
)
roots.push('e2e', 'fuzz')
let passed = 0
let failed = 0
let skipped = 0
const failures = []
/** The first lines of a failure message, without colour codes, for the summary. */
const firstLines = (message) =>
  String(message ?? '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ANSI colour codes vitest writes
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, 6)
    .map((line) => `      ${line}`)
    .join('\n')
for (const dir of roots) {
  const file = join(dir, 'test-results', 'vitest.json')
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0)
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  console.log(`${dir}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
  for (const suite of report.testResults ?? []) {
    const tests = suite.assertionResults ?? []
    const testFile = String(suite.name ?? '').replace(`${process.cwd()}/`, '')
    if (suite.status === 'failed' && tests.every((test) => test.status !== 'failed'))
      failures.push(`  ${testFile}: the file failed to run\n${firstLines(suite.message)}`)
    for (const test of tests)
      if (test.status === 'failed')
        failures.push(`  ${testFile} > ${test.fullName}\n${firstLines(test.failureMessages?.[0])}`)
  }
}
if (failures.length > 0) console.log(`Failed tests:\n${failures.join('\n')}`)
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
