import { AuthError } from './errors.js'
import { PathPatternCache } from './path-pattern.js'
import { PermissionEvaluator } from './permission-evaluator.js'
import type { Access, Authorizer, Decision, Principal, Role, RoleSource } from './port.js'
import { parseResourcePath, quote } from './resource-path.js'

export interface PathAuthorizerInit {
  /** Where users' effective roles come from (orga's documents in the node; `MemoryRoleSource` in tests). */
  readonly roles: RoleSource
  /** Compiled patterns kept between calls; default: a cache of this authorizer's own. */
  readonly patterns?: PathPatternCache
}

/**
 * The real `Authorizer`: resolves the principal's roles through a `RoleSource` on every call (so a role
 * change applies to the next request; only what cannot change is cached: compiled patterns, and the
 * compiled rules of deep-frozen roles such as `defineRole` returns) and decides with a
 * `PermissionEvaluator`.
 */
export class PathAuthorizer implements Authorizer {
  readonly #roles: RoleSource
  readonly #patterns: PathPatternCache

  constructor(init: PathAuthorizerInit) {
    this.#roles = init.roles
    this.#patterns = init.patterns ?? new PathPatternCache()
  }

  async authorize(principal: Principal, access: Access, path: string): Promise<Decision> {
    // Refuse a bad path before any I/O.
    const segments = parseResourcePath(path)
    const roles = await this.#roles.rolesFor(principal.userId)
    const evaluator = new PermissionEvaluator(roles, {
      restrictions: principal.restrictions,
      patterns: this.#patterns,
    })
    return evaluator.evaluateSegments(access, segments)
  }

  async check(principal: Principal, access: Access, path: string): Promise<void> {
    throwIfDenied(await this.authorize(principal, access, path), access, path)
  }
}

/** Turns a refusal into AuthError('AccessDenied'); the message is for logs, not for clients. */
export function throwIfDenied(decision: Decision, access: Access, path: string): void {
  if (!decision.allowed) {
    throw new AuthError('AccessDenied', `${access} on ${quote(path)} refused: ${decision.reason}`)
  }
}

/** A `RoleSource` held in memory: a table from user id to roles. */
export class MemoryRoleSource implements RoleSource {
  readonly #roles = new Map<string, readonly Role[]>()

  /** Replaces the roles of `userId`. */
  set(userId: string, roles: readonly Role[]): this {
    this.#roles.set(userId, [...roles])
    return this
  }

  /** Adds one role to `userId`'s roles. */
  add(userId: string, role: Role): this {
    this.#roles.set(userId, [...(this.#roles.get(userId) ?? []), role])
    return this
  }

  rolesFor(userId: string): readonly Role[] {
    return this.#roles.get(userId) ?? []
  }
}
