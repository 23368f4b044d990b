import { AuthError } from './errors.js'
import { PathPattern } from './path-pattern.js'
import type { Permission, PermissionRule, Role, RoleScope } from './port.js'
import { controlCharIndex, quote } from './resource-path.js'

const PERMISSIONS: ReadonlySet<string> = new Set<Permission>(['READ', 'WRITE', 'DENY'])

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && PERMISSIONS.has(value)
}

/** The literal leading segments every path of the scope starts with: `[realm]` or `[realm, 'g', group]`. */
export function scopePrefix(scope: RoleScope): string[] {
  return scope.group === undefined ? [scope.realm] : [scope.realm, 'g', scope.group]
}

/** The scope's subtree as a pattern, for messages: `/{realm}/**` or `/{realm}/g/{group}/**`. */
export function scopePattern(scope: RoleScope): string {
  return `/${scopePrefix(scope).join('/')}/**`
}

/**
 * Validates a role definition and returns a frozen copy. This is where a group admin's mistakes are
 * caught: every pattern must parse and stay inside the role's scope (`/{realm}/g/{group}/**` for a group
 * role, `/{realm}/**` for a realm role).
 * @throws AuthError('InvalidRole') for a missing name, a bad scope or an unknown permission;
 *   AuthError('InvalidPattern') for a pattern that does not parse; AuthError('RuleOutsideScope') for a
 *   pattern that can match a path outside the scope. Messages name the rule (counting from 1).
 */
export function defineRole(role: Role): Role {
  if (typeof role?.name !== 'string' || role.name.trim().length === 0) {
    throw new AuthError('InvalidRole', 'a role needs a non-empty name')
  }
  const label = `role ${quote(role.name)}`
  const scope = checkScope(role.scope, label)
  if (!Array.isArray(role.rules)) throw new AuthError('InvalidRole', `${label}: rules must be a list`)
  const prefix = scopePrefix(scope)
  const rules = role.rules.map((rule, i) => {
    const checked = checkRule(rule, `${label}, rule ${i + 1}`)
    if (!PathPattern.parse(checked.pattern).isWithin(prefix)) {
      throw new AuthError(
        'RuleOutsideScope',
        `${label}, rule ${i + 1}: pattern ${quote(checked.pattern)} can match paths outside ${quote(scopePattern(scope))}`,
      )
    }
    return checked
  })
  return Object.freeze({ name: role.name, scope, rules: Object.freeze(rules) })
}

/**
 * Validates a list of rules that has no scope (a token's restrictions) and returns a frozen copy.
 * @throws AuthError('InvalidRole') for a rule that is not `{ pattern, permission }`;
 *   AuthError('InvalidPattern') for a pattern that does not parse.
 */
export function checkPermissionRules(rules: unknown, label = 'restrictions'): readonly PermissionRule[] {
  if (!Array.isArray(rules)) throw new AuthError('InvalidRole', `${label} must be a list`)
  return Object.freeze(rules.map((rule, i) => checkRule(rule, `${label}, rule ${i + 1}`)))
}

function checkRule(rule: unknown, label: string): PermissionRule {
  if (typeof rule !== 'object' || rule === null) {
    throw new AuthError('InvalidRole', `${label}: a rule is { pattern, permission }`)
  }
  const { pattern, permission } = rule as Record<string, unknown>
  if (!isPermission(permission)) {
    throw new AuthError('InvalidRole', `${label}: permission must be READ, WRITE or DENY`)
  }
  if (typeof pattern !== 'string') throw new AuthError('InvalidPattern', `${label}: pattern must be a string`)
  try {
    PathPattern.parse(pattern)
  } catch (err) {
    throw new AuthError('InvalidPattern', `${label}: ${(err as Error).message}`, { cause: err })
  }
  return Object.freeze({ pattern, permission })
}

function checkScope(scope: unknown, label: string): RoleScope {
  if (typeof scope !== 'object' || scope === null) {
    throw new AuthError('InvalidRole', `${label}: a scope is { realm, group? }`)
  }
  const { realm, group } = scope as Record<string, unknown>
  checkScopeSegment(realm, 'realm', label)
  if (group === undefined) return Object.freeze({ realm: realm as string })
  checkScopeSegment(group, 'group', label)
  return Object.freeze({ realm: realm as string, group: group as string })
}

/** A realm or group id is one literal path segment. */
function checkScopeSegment(value: unknown, what: string, label: string): void {
  if (!isScopeSegment(value)) {
    throw new AuthError('InvalidRole', `${label}: the scope's ${what} must be one path segment`)
  }
}

function isScopeSegment(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value !== '.' &&
    value !== '..' &&
    !value.includes('/') &&
    !value.includes('*') &&
    controlCharIndex(value) < 0
  )
}

/** True when `scope` (read from storage, so untrusted) is a well-formed realm or group scope. */
export function isValidScope(scope: unknown): scope is RoleScope {
  if (typeof scope !== 'object' || scope === null) return false
  const { realm, group } = scope as Record<string, unknown>
  return isScopeSegment(realm) && (group === undefined || isScopeSegment(group))
}
