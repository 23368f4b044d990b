import {
  type Access,
  type Authorizer,
  type Decision,
  isValidScope,
  PathPattern,
  type Principal,
  type RoleSource,
  scopePrefix,
} from '@aruna/auth'

import type { SubtreeAccess } from '../listing.js'

/**
 * What a caller may do in a whole subtree of resource paths (a bucket, or a "directory" of keys in it):
 * `all` paths in it are allowed, `none` is, or it depends on the path (`some`). Only certain answers
 * may be `all` or `none`; anything in doubt is `some`.
 */
export type { SubtreeAccess }

/**
 * An `Authorizer` that can also answer for a subtree at once: listings use it to skip the per-key
 * checks when the caller may read the whole bucket, and to jump over a denied "directory" with one seek.
 */
export interface SubtreeAuthorizer extends Authorizer {
  authorizeSubtree(principal: Principal, access: Access, path: string): Promise<SubtreeAccess>
}

export function isSubtreeAuthorizer(authorizer: Authorizer): authorizer is SubtreeAuthorizer {
  return typeof (authorizer as Partial<SubtreeAuthorizer>).authorizeSubtree === 'function'
}

/**
 * Wraps an `Authorizer` (decisions per path stay its own) with `authorizeSubtree`, worked out from the
 * same roles (`RoleSource`) by looking at the rules' patterns, conservatively: `all` when a grant of
 * the access covers the whole subtree inside its role's scope and no DENY (nor anything unreadable)
 * could match a path in it; `none` when a DENY covers the whole subtree inside its role's scope. A
 * token with restrictions always gets `some` (per-path decisions).
 */
export class RoleSubtreeAuthorizer implements SubtreeAuthorizer {
  readonly #inner: Authorizer
  readonly #roles: RoleSource

  constructor(inner: Authorizer, roles: RoleSource) {
    this.#inner = inner
    this.#roles = roles
  }

  authorize(principal: Principal, access: Access, path: string): Promise<Decision> {
    return this.#inner.authorize(principal, access, path)
  }

  check(principal: Principal, access: Access, path: string): Promise<void> {
    return this.#inner.check(principal, access, path)
  }

  async authorizeSubtree(principal: Principal, access: Access, path: string): Promise<SubtreeAccess> {
    if (principal.restrictions !== undefined) return 'some'
    const subtree = path.split('/').slice(1)
    const roles = await this.#roles.rolesFor(principal.userId)
    let granted = false
    let mayDeny = false
    for (const role of roles as readonly unknown[]) {
      // As the evaluator: what is not a role object is no role at all.
      if (typeof role !== 'object' || role === null) continue
      const { scope, rules } = role as { scope?: unknown; rules?: unknown }
      const prefix = isValidScope(scope) ? scopePrefix(scope) : undefined
      if (!Array.isArray(rules)) {
        // Unreadable rules deny the whole scope (the evaluator's rule).
        if (prefix !== undefined && startsWith(subtree, prefix)) return 'none'
        mayDeny = true
        continue
      }
      for (const rule of rules as unknown[]) {
        const { pattern, permission } = (rule ?? {}) as { pattern?: unknown; permission?: unknown }
        const segments = patternSegments(pattern)
        const isGrant = permission === 'READ' || permission === 'WRITE'
        if (!isGrant) {
          if (segments === undefined) {
            if (prefix !== undefined && startsWith(subtree, prefix)) return 'none'
            mayDeny = true
          } else if (covers(segments, subtree) && (prefix === undefined || startsWith(subtree, prefix))) {
            return 'none'
          } else if (intersects(segments, subtree)) {
            mayDeny = true
          }
          continue
        }
        const grants = access === 'READ' || permission === 'WRITE'
        if (!grants || segments === undefined || prefix === undefined) continue
        if (!PathPattern.parse(pattern as string).isWithin(prefix)) continue
        if (covers(segments, subtree)) granted = true
      }
    }
    return granted && !mayDeny ? 'all' : 'some'
  }
}

/** The segments of a valid pattern, or `undefined`. */
function patternSegments(pattern: unknown): string[] | undefined {
  if (typeof pattern !== 'string') return undefined
  try {
    PathPattern.parse(pattern)
  } catch {
    return undefined
  }
  return pattern.split('/').slice(1)
}

/** Whether one pattern segment (not `**`) matches one path segment. */
function segmentMatches(pattern: string, segment: string): boolean {
  if (pattern === '*') return true
  if (!pattern.includes('*')) return pattern === segment
  const parts = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('.*')}$`, 's').test(segment)
}

/** Certainly matches every path in the subtree: leading segments matching it, then a final `**`. */
function covers(pattern: readonly string[], subtree: readonly string[]): boolean {
  const last = pattern.length - 1
  if (pattern[last] !== '**' || last > subtree.length) return false
  for (let i = 0; i < last; i++) {
    if (pattern[i] === '**' || !segmentMatches(pattern[i]!, subtree[i]!)) return false
  }
  return true
}

/** May match some path in the subtree (an over-approximation). */
function intersects(pattern: readonly string[], subtree: readonly string[]): boolean {
  for (let i = 0; i < subtree.length; i++) {
    const segment = pattern[i]
    if (segment === undefined) return false
    if (segment === '**') return true
    if (!segmentMatches(segment, subtree[i]!)) return false
  }
  return true
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment)
}
