import { AuthError } from './errors.js'
import { throwIfDenied } from './path-authorizer.js'
import { PermissionEvaluator } from './permission-evaluator.js'
import type { Access, Authorizer, Decision, Permission, Principal, Role } from './port.js'
import { parseResourcePath, quote } from './resource-path.js'
import { defineRole, isValidScope } from './role.js'

/** One call the mock answered, for assertions in the tests of the layers above. */
export interface AuthorizationCall {
  readonly principal: Principal
  readonly access: Access
  readonly path: string
  /** `undefined` when the call threw (an invalid path). */
  readonly decision: Decision | undefined
}

/**
 * The in-memory `Authorizer` for tests of the layers above: an explicit grant table (user → roles, or
 * single rules added with `allow`/`deny`), decided by the same rules as `PathAuthorizer`, with every
 * call recorded in `calls`. Set it up in one line: `new MemoryAuthorizer().allow('alice', 'READ', p)`.
 */
export class MemoryAuthorizer implements Authorizer {
  readonly calls: AuthorizationCall[] = []
  readonly #table = new Map<string, Role[]>()

  /** Replaces every role and grant of `userId`. */
  setRoles(userId: string, roles: readonly Role[]): this {
    this.#table.set(userId, [...roles])
    return this
  }

  /** Grants `access` on the paths `pattern` matches (`/{realm}/…`: the grant is scoped to that realm). */
  allow(userId: string, access: Access, pattern: string): this {
    return this.#grant(userId, access, pattern)
  }

  /** Denies every access on the paths `pattern` matches, whatever else is granted. */
  deny(userId: string, pattern: string): this {
    return this.#grant(userId, 'DENY', pattern)
  }

  /** The roles the table holds for `userId` (grants appear as one-rule realm roles). */
  rolesFor(userId: string): readonly Role[] {
    return this.#table.get(userId) ?? []
  }

  /** Empties the table and the call log. */
  reset(): void {
    this.#table.clear()
    this.calls.length = 0
  }

  async authorize(principal: Principal, access: Access, path: string): Promise<Decision> {
    let decision: Decision | undefined
    try {
      const segments = parseResourcePath(path)
      const evaluator = new PermissionEvaluator(this.rolesFor(principal.userId), {
        restrictions: principal.restrictions,
      })
      decision = evaluator.evaluateSegments(access, segments)
      return decision
    } finally {
      this.calls.push({ principal, access, path, decision })
    }
  }

  async check(principal: Principal, access: Access, path: string): Promise<void> {
    throwIfDenied(await this.authorize(principal, access, path), access, path)
  }

  #grant(userId: string, permission: Permission, pattern: string): this {
    const realm = typeof pattern === 'string' ? pattern.split('/')[1] : undefined
    if (!isValidScope({ realm })) {
      throw new AuthError(
        'RuleOutsideScope',
        `a grant needs a pattern inside one realm (/{realm}/…): ${quote(pattern)}`,
      )
    }
    const role = defineRole({
      name: `${permission} ${pattern}`,
      scope: { realm: realm! },
      rules: [{ pattern, permission }],
    })
    this.#table.set(userId, [...this.rolesFor(userId), role])
    return this
  }
}
