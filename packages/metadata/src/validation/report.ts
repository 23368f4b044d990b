/**
 * A validation report in the manner of the reference validators: every rule of `RO_CRATE_RULES` with its
 * outcome for one crate (`passed`, `failed`, or `skipped` when it does not apply to the crate's version or
 * packaging, needs a payload that is not known, or could not run because the file could not be read),
 * each failure with its severity, entity, property and message. `formatCrateReport` writes it as text.
 */
import type { Problem } from '../errors.js'
import { checkOnline, type OnlineOptions, type OnlineSummary } from './online.js'
import { type CrateProfile, PROFILE_NAMES } from './profiles.js'
import { RO_CRATE_RULES, type RoCrateRule } from './rules.js'
import { type CrateValidation, type ValidateOptions, validateCrate } from './validate.js'

export type RuleOutcome = 'passed' | 'failed' | 'skipped'

export interface RuleResult {
  rule: RoCrateRule
  severity: Problem['severity']
  summary: string
  outcome: RuleOutcome
  /** Why a skipped rule was not checked. */
  reason?: string
  /** The problems of a failed rule (empty otherwise). */
  problems: Problem[]
}

export interface CrateReport {
  /** True when no problem is an error (warnings allowed). */
  valid: boolean
  /** The RO-Crate version whose rules were applied, when the crate says. */
  version?: string
  /** What was validated (a path, a file name), when the caller says. */
  source?: string
  counts: {
    errors: number
    warnings: number
    info: number
    passed: number
    failed: number
    skipped: number
  }
  rules: RuleResult[]
  /** Every problem, in the order found. */
  problems: Problem[]
  /** When online checks ran: how many URLs were requested, and how many were left (`maxUrls`). */
  online?: OnlineSummary
}

export interface ReportOptions {
  /** The options validation ran with: they decide which payload and packaging rules applied. */
  validate?: ValidateOptions
  /** Whether the crate came as a zip (`crate.zip` is checked only then). */
  zip?: boolean
  /**
   * Online checks (rules marked `online`, skipped otherwise): given as options, `validateCrateReport` runs
   * them (and returns a promise); `true` tells `crateReport` they ran.
   */
  online?: boolean | OnlineOptions
  /** What was validated, shown in the report. */
  source?: string
}

/** Problems after which the validator cannot read the crate any further. */
const UNREADABLE: ReadonlySet<string> = new Set([
  'crate.size',
  'crate.encoding',
  'crate.json',
  'crate.object',
  'graph.array',
  'crate.zip',
])

const is12 = (version: string | undefined) => version !== undefined && Number.parseFloat(version) >= 1.2

/** Why a rule does not apply to this crate, or `undefined` when it does. */
function notApplicable(
  rule: RoCrateRule,
  validation: CrateValidation,
  options: ReportOptions,
): string | undefined {
  const version = validation.version
  const validate = options.validate ?? {}
  const payloadKnown = validate.payload !== undefined
  const packaging = validate.packaging ?? (payloadKnown ? 'attached' : undefined)
  const info: object = RO_CRATE_RULES[rule]
  if ('online' in info && info.online === true && (options.online ?? false) === false)
    return 'online check, not run (offline validation)'
  if ('profile' in info && typeof info.profile === 'string') {
    const profile = info.profile as CrateProfile
    if (!(validation.profiles ?? []).includes(profile))
      return `the crate does not claim the ${PROFILE_NAMES[profile]} profile (by "conformsTo")`
  }
  switch (rule) {
    case 'crate.zip':
      return options.zip === true ? undefined : 'the crate did not come as a zip'
    case 'root.id':
      return is12(version) ? `RO-Crate ${version} allows any root identifier` : undefined
    case 'root.id-attached':
      if (!is12(version)) return 'RO-Crate 1.2 and later only'
      return packaging === 'attached' ? undefined : 'the crate is not known to be attached'
    case 'profile.workflow.descriptor-conformsTo':
      return is12(version) ? `RO-Crate ${version} puts profiles on the root data entity` : undefined
    case 'data-entity.name':
    case 'descriptor.conformsTo-single':
      return is12(version) ? undefined : 'RO-Crate 1.2 and later only'
    case 'data-entity.payload':
      if (is12(version)) return `RO-Crate ${version}: see data-entity.payload-absent`
      return payloadKnown ? undefined : 'the payload is not known'
    case 'data-entity.payload-absent':
      if (!is12(version)) return 'RO-Crate 1.2 and later only'
      return payloadKnown ? undefined : 'the payload is not known'
    case 'thumbnail.payload':
      return payloadKnown ? undefined : 'the payload is not known'
    case 'data-entity.detached-relative':
      return packaging === 'detached' ? undefined : 'the crate is not known to be detached'
    default:
      return undefined
  }
}

/** The report of a validation: every rule of the catalogue with its outcome. */
export function crateReport(validation: CrateValidation, options: ReportOptions = {}): CrateReport {
  const byRule = new Map<string, Problem[]>()
  for (const problem of validation.problems) {
    const list = byRule.get(problem.rule) ?? []
    list.push(problem)
    byRule.set(problem.rule, list)
  }
  const unreadable = validation.problems.find((problem) => UNREADABLE.has(problem.rule))
  const rules = (Object.keys(RO_CRATE_RULES) as RoCrateRule[]).map((rule): RuleResult => {
    const { severity, summary } = RO_CRATE_RULES[rule]
    const problems = byRule.get(rule) ?? []
    if (problems.length > 0) return { rule, severity, summary, outcome: 'failed', problems }
    const reason =
      unreadable === undefined
        ? notApplicable(rule, validation, options)
        : `not checked: the crate could not be read (${unreadable.rule})`
    return reason === undefined
      ? { rule, severity, summary, outcome: 'passed', problems }
      : { rule, severity, summary, outcome: 'skipped', reason, problems }
  })
  const count = (outcome: RuleOutcome) => rules.filter((result) => result.outcome === outcome).length
  const severityCount = (severity: Problem['severity']) =>
    validation.problems.filter((problem) => problem.severity === severity).length
  return {
    valid: validation.valid,
    ...(validation.version === undefined ? {} : { version: validation.version }),
    ...(options.source === undefined ? {} : { source: options.source }),
    counts: {
      errors: severityCount('error'),
      warnings: severityCount('warning'),
      info: severityCount('info'),
      passed: count('passed'),
      failed: count('failed'),
      skipped: count('skipped'),
    },
    rules,
    problems: validation.problems,
  }
}

/**
 * Validates a crate (as `validateCrate`) and reports on every rule. With `online` options it also checks
 * that the root's `cite-as` and the web-based data entities resolve, and returns a promise.
 */
export function validateCrateReport(
  input: unknown,
  options: ReportOptions & { online: OnlineOptions },
): Promise<CrateReport>
export function validateCrateReport(input: unknown, options?: ReportOptions): CrateReport
export function validateCrateReport(
  input: unknown,
  options: ReportOptions = {},
): CrateReport | Promise<CrateReport> {
  const validation = validateCrate(input, options.validate)
  const online = options.online
  if (typeof online !== 'object') return crateReport(validation, options)
  return onlineReport(input, validation, options, online)
}

async function onlineReport(
  input: unknown,
  validation: CrateValidation,
  options: ReportOptions,
  online: OnlineOptions,
): Promise<CrateReport> {
  const readable = !validation.problems.some((problem) => UNREADABLE.has(problem.rule))
  const { problems, summary } = await checkOnline(readable ? parsed(input) : undefined, online)
  const report = crateReport(
    { ...validation, problems: [...validation.problems, ...problems] },
    {
      ...options,
      online: true,
    },
  )
  return { ...report, online: summary }
}

/** The crate as JSON (validation has read it once already: it is known to parse). */
function parsed(input: unknown): unknown {
  try {
    if (input instanceof Uint8Array) return JSON.parse(new TextDecoder().decode(input))
    return typeof input === 'string' ? JSON.parse(input) : input
  } catch {
    return undefined
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

const HEADINGS: readonly [Problem['severity'], string][] = [
  ['error', 'Errors (MUST)'],
  ['warning', 'Warnings (SHOULD)'],
  ['info', 'Info (MAY)'],
]

function problemLine(problem: Problem): string {
  const where = [
    problem.entityId === undefined ? undefined : `entity ${problem.entityId}`,
    problem.property === undefined ? undefined : `property ${problem.property}`,
  ].filter((part) => part !== undefined)
  return `  [${problem.rule}] ${problem.message}${where.length > 0 ? ` (${where.join(', ')})` : ''}`
}

/**
 * The report as text: a summary line, the failures grouped by severity (errors, then warnings, then info),
 * then the counts of rules passed, failed and skipped.
 */
export function formatCrateReport(report: CrateReport): string {
  const what = report.source === undefined ? 'The crate' : report.source
  const version = report.version === undefined ? '' : ` (RO-Crate ${report.version})`
  const verdict = report.valid
    ? report.counts.warnings > 0
      ? `is valid, with ${plural(report.counts.warnings, 'warning')}`
      : 'is valid'
    : `is not valid: ${plural(report.counts.errors, 'error')}, ${plural(report.counts.warnings, 'warning')}`
  const lines = [`${what}${version} ${verdict}`]
  for (const [severity, heading] of HEADINGS) {
    const problems = report.problems.filter((problem) => problem.severity === severity)
    if (problems.length === 0) continue
    lines.push('', `${heading}:`, ...problems.map(problemLine))
  }
  const { passed, failed, skipped } = report.counts
  lines.push('', `Rules: ${passed} passed, ${failed} failed, ${skipped} skipped`)
  return `${lines.join('\n')}\n`
}
