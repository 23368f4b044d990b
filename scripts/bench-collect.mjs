// Gathers every package's bench-report.md into one bench-report.md at the root.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dirs = ['packages', 'apps'].flatMap((d) => (existsSync(d) ? readdirSync(d).map((p) => join(d, p)) : []))
const parts = dirs
  .map((d) => join(d, 'bench-report.md'))
  .filter((f) => existsSync(f))
  .map((f) => readFileSync(f, 'utf8').trim())
writeFileSync('bench-report.md', `${parts.join('\n\n')}\n`)
console.log(`bench-report.md: ${parts.length} package report(s)`)
