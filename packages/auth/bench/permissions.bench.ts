// Permission checks per second for a user with 50 rules: PermissionEvaluator (compiled once) and
// PathAuthorizer (roles from a RoleSource on every call) against regex matchers measured in the same run.
import type { Permission } from '../dist/index.js'
import { MemoryRoleSource, PathAuthorizer, PermissionEvaluator, parseResourcePath } from '../dist/index.js'
import { fiftyRuleRoles, regexAllowsRead, resourcePath, ruleRegexSources } from './fixtures.ts'
import { asyncOpsPerSecond, fmt, opsPerSecond, prng, table } from './measure.ts'

const roles = fiftyRuleRoles()
const random = prng(42)
// Paths spread over the user's five groups and fifteen others, with non-data paths too.
const paths: string[] = []
for (let i = 0; i < 10_000; i++) {
  const r = random()
  if (r < 0.05) paths.push(`/r/g/g${Math.floor(random() * 6)}/meta/crate-${i}`)
  else if (r < 0.08) paths.push(`/r/g/g${Math.floor(random() * 6)}/admin/members`)
  else paths.push(resourcePath(Math.floor(random() * 250_000)))
}
const segments = paths.map((p) => parseResourcePath(p))

const evaluator = new PermissionEvaluator(roles)
const authorizer = new PathAuthorizer({ roles: new MemoryRoleSource().set('alice', roles) })
const sources = ruleRegexSources(roles)
const compiled = sources.map(({ source, permission }) => ({ regex: new RegExp(source), permission }))

// The baselines must decide exactly as the evaluator does, or the comparison means nothing.
let allowed = 0
for (const path of paths) {
  const ours = evaluator.evaluate('READ', path).allowed
  if (ours !== regexAllowsRead(compiled, path)) throw new Error(`the regex baseline disagrees on ${path}`)
  if (ours) allowed++
}

let k = 0
const next = () => {
  k = (k + 1) % paths.length
  return k
}
const results: [string, number][] = [
  [
    'PermissionEvaluator.evaluate (path string)',
    opsPerSecond(() => evaluator.evaluate('READ', paths[next()]!)),
  ],
  [
    'PermissionEvaluator.evaluateSegments (pre-split)',
    opsPerSecond(() => evaluator.evaluateSegments('READ', segments[next()]!)),
  ],
  [
    'PathAuthorizer.authorize (roles looked up per call)',
    await asyncOpsPerSecond(() => authorizer.authorize({ userId: 'alice' }, 'READ', paths[next()]!)),
  ],
  ['baseline: 50 precompiled RegExps', opsPerSecond(() => regexAllowsRead(compiled, paths[next()]!))],
  [
    'baseline: naive, 50 RegExps compiled per check',
    opsPerSecond(() => {
      const rules = sources.map(({ source, permission }: { source: string; permission: Permission }) => ({
        regex: new RegExp(source),
        permission,
      }))
      regexAllowsRead(rules, paths[next()]!)
    }),
  ],
]
const naive = results[results.length - 1]![1]

console.log(`## Permission checks (50 rules)

A user with five group roles of ten rules each (allows, denies under allows, \`*\`, \`**\`, \`*.csv\`-style
globs), READ checks on ${fmt(paths.length)} paths (${fmt((100 * allowed) / paths.length, 1)} % allowed). Both
baselines decide identically on every path (checked before timing). Median of 5 rounds.

${table(
  ['matcher', 'checks/s', '× naive regex'],
  results.map(([name, rate]) => [name, fmt(rate), fmt(rate / naive, 1)]),
)}
`)
