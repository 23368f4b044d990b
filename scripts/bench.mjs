// Runs a package's benchmarks and writes its report. Run from a package folder (its `bench` script):
// every `bench/*.bench.ts` is run with Node (type stripping; import the package's built `dist/`), in
// its own process, one after the other. Each prints Markdown to stdout: a `## Title`, what was
// measured, and a table whose figures compare us against a baseline measured in the same run (ratios,
// not absolute times: machines differ). The report lands in `bench-report.md` in the package folder;
// `node scripts/bench-collect.mjs` gathers every package's report into the root `bench-report.md`.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'

const dir = 'bench'
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bench.ts')) : []
const filter = process.argv[2]
const sections = []
let failed = 0
for (const file of files.sort()) {
  if (filter && !file.includes(filter)) continue
  console.error(`[bench] ${basename(process.cwd())}: ${file}`)
  const run = spawnSync(process.execPath, ['--expose-gc', join(dir, file)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  })
  if (run.status !== 0) {
    failed++
    sections.push(`## ${file}\n\nFAILED (exit ${run.status ?? run.signal})\n`)
  } else {
    sections.push(run.stdout.trim())
    console.log(run.stdout.trim())
  }
}
const header = `# Benchmarks: ${basename(process.cwd())}\n\nNode ${process.version}, ${new Date().toISOString()}\n`
writeFileSync('bench-report.md', `${header}\n${sections.join('\n\n')}\n`)
console.error(`[bench] wrote ${join(process.cwd(), 'bench-report.md')} (${sections.length} benchmark(s))`)
process.exit(failed > 0 ? 1 : 0)
