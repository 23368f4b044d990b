/**
 * The minimal checks orga makes on role rules and replication prefixes before storing them. Matching
 * is `@aruna/auth`'s business; here a pattern must only be well-formed and stay inside its role's scope
 * (a group role in `/{realm}/g/{group}/**`, a realm role in `/{realm}/**`), so a stored role can never
 * reach further than its scope.
 */

import { MAX_PATTERN_LENGTH } from '@aruna/auth'
import { OrgaError } from './errors.js'
import type { Permission, PermissionRule } from './types.js'

const MAX_RULES = 256
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u
const PERMISSIONS: readonly Permission[] = ['READ', 'WRITE', 'DENY']

/** The segments of a well-formed pattern. `InvalidPattern` says what is wrong otherwise. */
export function patternSegments(pattern: unknown): string[] {
  if (typeof pattern !== 'string') throw new OrgaError('InvalidPattern', 'a pattern must be a string')
  if (!pattern.startsWith('/')) throw new OrgaError('InvalidPattern', `pattern ${pattern} must start with /`)
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new OrgaError('InvalidPattern', `pattern is longer than ${MAX_PATTERN_LENGTH} characters`)
  }
  if (CONTROL.test(pattern)) throw new OrgaError('InvalidPattern', 'pattern contains control characters')
  const segments = pattern.slice(1).split('/')
  segments.forEach((segment, index) => {
    const where = `segment ${index + 1} of ${pattern}`
    if (segment === '') throw new OrgaError('InvalidPattern', `${where} is empty`)
    if (segment === '.' || segment === '..') throw new OrgaError('InvalidPattern', `${where} is ${segment}`)
    if (segment.includes('**') && segment !== '**') {
      throw new OrgaError('InvalidPattern', `${where}: ** must be a whole segment`)
    }
  })
  return segments
}

/**
 * Checks a role's rules: a list of at most 256 `{pattern, permission}`, no pattern twice, each pattern
 * well-formed and inside the scope. Returns plain copies.
 */
export function checkRules(rules: unknown, realm: string, group?: string): PermissionRule[] {
  if (!Array.isArray(rules)) throw new OrgaError('InvalidInput', 'rules must be a list')
  if (rules.length > MAX_RULES) throw new OrgaError('InvalidInput', `a role has at most ${MAX_RULES} rules`)
  const seen = new Set<string>()
  return rules.map((rule: unknown) => {
    if (typeof rule !== 'object' || rule === null)
      throw new OrgaError('InvalidInput', 'a rule must be an object')
    const { pattern, permission } = rule as Record<string, unknown>
    if (!PERMISSIONS.includes(permission as Permission)) {
      throw new OrgaError('InvalidInput', 'permission must be READ, WRITE or DENY')
    }
    const segments = patternSegments(pattern)
    if (group !== undefined) {
      if (segments[0] !== realm || segments[1] !== 'g' || segments[2] !== group) {
        throw new OrgaError('PatternOutsideGroup', `${String(pattern)} is outside /${realm}/g/${group}/**`)
      }
    } else if (segments[0] !== realm) {
      throw new OrgaError('PatternOutsideRealm', `${String(pattern)} is outside /${realm}/**`)
    }
    const text = pattern as string
    if (seen.has(text)) throw new OrgaError('InvalidInput', `pattern ${text} appears twice`)
    seen.add(text)
    return { pattern: text, permission: permission as Permission }
  })
}

/**
 * A replication prefix inside the realm, normalised without a trailing `/`: literal segments only (no
 * wildcards, no `.`/`..`, no empty segments). `InvalidInput` otherwise.
 */
export function checkPrefix(prefix: unknown, realm: string): string {
  if (typeof prefix !== 'string' || prefix.length > MAX_PATTERN_LENGTH || CONTROL.test(prefix)) {
    throw new OrgaError('InvalidInput', `a prefix must be a path of at most ${MAX_PATTERN_LENGTH} characters`)
  }
  const normalised = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  const segments = normalised.split('/')
  if (segments[0] !== '' || segments[1] !== realm) {
    throw new OrgaError('InvalidInput', `prefix ${prefix} is not inside /${realm}`)
  }
  for (const segment of segments.slice(2)) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('*')) {
      throw new OrgaError('InvalidInput', `prefix ${prefix} has a wildcard or an empty, . or .. segment`)
    }
  }
  return normalised
}

/** Whether `prefix` covers `path` on whole segments. */
export function prefixCovers(prefix: string, path: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`)
}
