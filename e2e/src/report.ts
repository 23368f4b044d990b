/**
 * The end-to-end report: `e2e/report/latest.json` and `latest.md`, merged per scenario so that one
 * scenario run alone replaces only its own entry (`pnpm e2e chaos` keeps the journey's last figures).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const REPORT_DIR = join(here, '../report')

export interface ScenarioReport {
  /** passed, or failed with the first failure's message. */
  readonly outcome: 'passed' | 'failed'
  readonly failure?: string
  readonly startedAt: string
  readonly durationMs: number
  /** What the scenario counted (objects acknowledged, lost, corrupt reads served, …). */
  readonly counts: Readonly<Record<string, number>>
  /** Step times in milliseconds. */
  readonly timings: Readonly<Record<string, number>>
  /** Facts worth reading next to the figures (settings, what could not be done and why). */
  readonly notes: readonly string[]
}

interface ReportFile {
  updatedAt: string
  scenarios: Record<string, ScenarioReport & { file: string }>
}

async function readReport(): Promise<ReportFile> {
  try {
    return JSON.parse(await readFile(join(REPORT_DIR, 'latest.json'), 'utf8')) as ReportFile
  } catch {
    return { updatedAt: '', scenarios: {} }
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text)
  await rename(`${path}.tmp`, path)
}

/** Replaces the entries of `file`'s scenarios with `entries` and rewrites both report files. */
export async function recordScenarios(file: string, entries: Record<string, ScenarioReport>): Promise<void> {
  await mkdir(REPORT_DIR, { recursive: true })
  const report = await readReport()
  for (const [name, entry] of Object.entries(report.scenarios))
    if (entry.file === file) delete report.scenarios[name]
  for (const [name, entry] of Object.entries(entries)) report.scenarios[name] = { file, ...entry }
  report.updatedAt = new Date().toISOString()
  const sorted = Object.fromEntries(Object.entries(report.scenarios).sort(([a], [b]) => a.localeCompare(b)))
  report.scenarios = sorted
  await writeAtomically(join(REPORT_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`)
  await writeAtomically(join(REPORT_DIR, 'latest.md'), markdown(report))
}

function markdown(report: ReportFile): string {
  const lines = [
    '# End-to-end report',
    '',
    `Written by the scenarios (\`pnpm e2e\`); each run of a scenario file replaces its own entries. Last update: ${report.updatedAt}.`,
    '',
    '| scenario | file | outcome | time | run at |',
    '| --- | --- | --- | ---: | --- |',
  ]
  for (const [name, s] of Object.entries(report.scenarios))
    lines.push(
      `| ${name} | ${s.file} | ${s.outcome} | ${(s.durationMs / 1000).toFixed(1)} s | ${s.startedAt} |`,
    )
  for (const [name, s] of Object.entries(report.scenarios)) {
    lines.push('', `## ${name}`, '', `${s.outcome}${s.failure ? `: ${s.failure.split('\n')[0]}` : ''}`)
    if (Object.keys(s.counts).length > 0) {
      lines.push('', '| count | value |', '| --- | ---: |')
      for (const [k, v] of Object.entries(s.counts)) lines.push(`| ${k} | ${v} |`)
    }
    if (Object.keys(s.timings).length > 0) {
      lines.push('', '| step | ms |', '| --- | ---: |')
      for (const [k, v] of Object.entries(s.timings)) lines.push(`| ${k} | ${v} |`)
    }
    if (s.notes.length > 0) lines.push('', ...s.notes.map((n) => `- ${n}`))
  }
  return `${lines.join('\n')}\n`
}
