// Shared fixtures of the auth benchmarks: a user with 50 rules over a synthetic node namespace.
import type { Permission, Role } from '../dist/index.js'
import { defineRole } from '../dist/index.js'

/** The ten rules each of the user's five group roles has (`G` is the group). */
const RULES: [string, Permission][] = [
  ['/r/g/G/data/b0/**', 'WRITE'],
  ['/r/g/G/data/b1/**', 'READ'],
  ['/r/g/G/data/b2/*/f1*.csv', 'READ'],
  ['/r/g/G/data/*/d7/**', 'READ'],
  ['/r/g/G/meta/**', 'READ'],
  ['/r/g/G/data/b0/d3/**', 'DENY'],
  ['/r/g/G/data/b1/*/f5*', 'DENY'],
  ['/r/g/G/data/**/*.tmp', 'DENY'],
  ['/r/g/G/data/b3/d1/**', 'WRITE'],
  ['/r/g/G/admin/**', 'DENY'],
]

/** Five group roles of ten rules each: 50 rules, allows and denies, `*`, `**` and globs. */
export function fiftyRuleRoles(): Role[] {
  return ['g0', 'g1', 'g2', 'g3', 'g4'].map((group) =>
    defineRole({
      name: `${group}-member`,
      scope: { realm: 'r', group },
      rules: RULES.map(([pattern, permission]) => ({
        pattern: pattern.replace('/G/', `/${group}/`),
        permission,
      })),
    }),
  )
}

export const GROUPS = 20
export const BUCKETS = 10
export const DIRS = 50
export const FILES_PER_DIR = 100

/** The path of resource `i` of the synthetic namespace (GROUPS × BUCKETS × DIRS × FILES_PER_DIR). */
export function resourcePath(i: number): string {
  const file = i % FILES_PER_DIR
  const dir = Math.floor(i / FILES_PER_DIR) % DIRS
  const bucket = Math.floor(i / (FILES_PER_DIR * DIRS)) % BUCKETS
  const group = Math.floor(i / (FILES_PER_DIR * DIRS * BUCKETS)) % GROUPS
  const ext = file % 10 === 9 ? 'tmp' : file % 2 === 0 ? 'csv' : 'txt'
  return `/r/g/g${group}/data/b${bucket}/d${dir}/f${file}.${ext}`
}

/** Every rule of `roles` as a RegExp (`*` within a segment, `**` across segments), for the baselines. */
export function ruleRegexSources(roles: Role[]): { source: string; permission: Permission }[] {
  return roles.flatMap((role) =>
    role.rules.map((rule) => ({ source: patternRegex(rule.pattern), permission: rule.permission })),
  )
}

function patternRegex(pattern: string): string {
  const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  const body = pattern
    .slice(1)
    .split('/')
    .map((segment) =>
      segment === '**' ? '(?:/[^/]*)*' : `/${segment.split('*').map(escapeRegex).join('[^/]*')}`,
    )
    .join('')
  return `^${body}$`
}

/** Deny wins, WRITE implies READ: the decision of a READ by a list of (regex, permission). */
export function regexAllowsRead(rules: { regex: RegExp; permission: Permission }[], path: string): boolean {
  let granted = false
  for (const { regex, permission } of rules) {
    if (!regex.test(path)) continue
    if (permission === 'DENY') return false
    granted = true
  }
  return granted
}
