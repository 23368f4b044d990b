import type { PathPattern } from './path-pattern.js'
import { PathPatternCache } from './path-pattern.js'
import type { Access, Decision, PermissionRule, Role } from './port.js'
import { parseResourcePath } from './resource-path.js'
import { isValidScope, scopePrefix } from './role.js'

/** A DENY: its pattern (`undefined`: it denies the whole scope) and the scope it is clipped to. */
interface CompiledDeny {
  readonly pattern: PathPattern | undefined
  /** Literal leading segments the path must have; `undefined` when no clipping is needed. */
  readonly scope: readonly string[] | undefined
}

/** A rule set compiled for evaluation: the allows are already known to stay inside their scope. */
interface CompiledRules {
  readonly denies: CompiledDeny[]
  /** Patterns that grant READ: the READ rules and the WRITE rules, since WRITE implies READ. */
  readonly reads: PathPattern[]
  readonly writes: PathPattern[]
}

export interface PermissionEvaluatorOptions {
  /** The token's restrictions; `undefined` means no narrowing, `[]` means nothing is allowed. */
  readonly restrictions?: readonly PermissionRule[]
  /** Where compiled patterns are kept between evaluators; default: one cache shared by the package. */
  readonly patterns?: PathPatternCache
}

const sharedPatterns = new PathPatternCache()

const ALLOWED: Decision = Object.freeze({ allowed: true })
const DENY_RULE: Decision = Object.freeze({ allowed: false, reason: 'DenyRule' })
const NO_GRANT: Decision = Object.freeze({ allowed: false, reason: 'NoGrant' })
const RESTRICTED: Decision = Object.freeze({ allowed: false, reason: 'Restricted' })

/**
 * Decides READ/WRITE on resource paths for one user's roles and token restrictions: pure, synchronous,
 * compiled once and then evaluated as often as needed (Sans-IO: `PathAuthorizer` does the I/O).
 *
 * The rules, each independent of the order of roles and rules:
 * 1. a DENY of any role that matches the path refuses (`DenyRule`), whatever allows also match;
 * 2. otherwise an access is granted when a rule matches with that permission (WRITE implies READ),
 *    else it is refused (`NoGrant`);
 * 3. restrictions are then applied with the same two rules; a refusal there is `Restricted`.
 *
 * Roles are data read back from storage, so they are evaluated defensively (a role built by
 * `defineRole` never needs this): a role has no effect outside its scope — allow rules that could match
 * outside it are dropped, and DENY rules are kept but only apply inside it (dropping them would fail
 * open). What cannot be understood never grants but may deny: an unknown permission is taken as DENY;
 * a DENY whose pattern does not parse (or a rule, or list of rules, that is not one) denies the role's
 * whole scope; an allow whose pattern does not parse is dropped; a role with a malformed scope grants
 * nothing while its DENY rules apply unclipped. Restrictions follow the same rules, with the whole tree
 * as their scope.
 */
export class PermissionEvaluator {
  readonly #grants: CompiledRules
  readonly #restrictions: CompiledRules | undefined

  constructor(roles: readonly Role[], options: PermissionEvaluatorOptions = {}) {
    const patterns = options.patterns ?? sharedPatterns
    this.#grants = emptyRules()
    for (const role of roles) {
      if (typeof role !== 'object' || role === null) continue
      const compiled = compileRole(role, patterns)
      this.#grants.denies.push(...compiled.denies)
      this.#grants.reads.push(...compiled.reads)
      this.#grants.writes.push(...compiled.writes)
    }
    if (options.restrictions !== undefined) {
      this.#restrictions = emptyRules()
      compileInto(this.#restrictions, options.restrictions, [], patterns)
    }
  }

  /** Decides `access` on `path`. @throws AuthError('InvalidPath') when `path` is not a resource path. */
  evaluate(access: Access, path: string): Decision {
    return this.evaluateSegments(access, parseResourcePath(path))
  }

  /** Decides `access` on a path already split by `parseResourcePath`. */
  evaluateSegments(access: Access, path: readonly string[]): Decision {
    if (denies(this.#grants, path)) return DENY_RULE
    if (!grants(this.#grants, access, path)) return NO_GRANT
    const restrictions = this.#restrictions
    if (restrictions !== undefined && (denies(restrictions, path) || !grants(restrictions, access, path))) {
      return RESTRICTED
    }
    return ALLOWED
  }

  /**
   * The compiled rules (read-only), for evaluating sets of paths at once (the bitmap universes): the
   * same rules `evaluateSegments` applies, so that both always agree.
   */
  compiledRules(): CompiledPermissions {
    return { grants: this.#grants, restrictions: this.#restrictions }
  }
}

/** A read-only view of a compiled rule set (see `PermissionEvaluator.compiledRules`). */
export interface CompiledRuleView {
  /** DENY rules: a pattern (`undefined`: the whole scope) and, when clipped, the scope's leading segments. */
  readonly denies: readonly {
    readonly pattern: PathPattern | undefined
    readonly scope: readonly string[] | undefined
  }[]
  /** Patterns that grant READ (READ and WRITE rules). */
  readonly reads: readonly PathPattern[]
  readonly writes: readonly PathPattern[]
}

/** The grants of the roles, and the token's restrictions (`undefined`: no narrowing). */
export interface CompiledPermissions {
  readonly grants: CompiledRuleView
  readonly restrictions: CompiledRuleView | undefined
}

/**
 * Roles that cannot change (deep-frozen, as `defineRole` makes them) compiled once, by identity, so that
 * an authorizer re-reading a user's roles on every request does not recompile them.
 */
const compiledRoles = new WeakMap<Role, CompiledRules>()

function compileRole(role: Role, patterns: PathPatternCache): CompiledRules {
  const cached = compiledRoles.get(role)
  if (cached !== undefined) return cached
  const compiled = emptyRules()
  compileInto(compiled, role.rules, isValidScope(role.scope) ? scopePrefix(role.scope) : undefined, patterns)
  if (isDeepFrozen(role)) compiledRoles.set(role, compiled)
  return compiled
}

function isDeepFrozen(role: Role): boolean {
  return (
    Object.isFrozen(role) &&
    Object.isFrozen(role.scope) &&
    Array.isArray(role.rules) &&
    Object.isFrozen(role.rules) &&
    role.rules.every((rule) => Object.isFrozen(rule))
  )
}

function emptyRules(): CompiledRules {
  return { denies: [], reads: [], writes: [] }
}

/**
 * Compiles `rules` (untrusted) into `into`. `prefix` is the scope's literal leading segments
 * (`[]`: everywhere; `undefined`: unknown, so allows are dropped and denies are not clipped).
 */
function compileInto(
  into: CompiledRules,
  rules: unknown,
  prefix: readonly string[] | undefined,
  patterns: PathPatternCache,
): void {
  if (!Array.isArray(rules)) {
    into.denies.push({ pattern: undefined, scope: prefix ?? [] })
    return
  }
  for (const rule of rules as unknown[]) {
    const { pattern: source, permission } = (rule ?? {}) as Partial<Record<string, unknown>>
    const pattern = parseOrUndefined(source, patterns)
    if (permission === 'READ' || permission === 'WRITE') {
      if (prefix === undefined || pattern === undefined || !pattern.isWithin(prefix)) continue
      into.reads.push(pattern)
      if (permission === 'WRITE') into.writes.push(pattern)
    } else if (pattern === undefined) {
      // An unreadable DENY (or an unknown permission) denies everything it could have meant.
      into.denies.push({ pattern: undefined, scope: prefix ?? [] })
    } else {
      const clipped = prefix === undefined || pattern.isWithin(prefix) ? undefined : prefix
      into.denies.push({ pattern, scope: clipped })
    }
  }
}

function parseOrUndefined(source: unknown, patterns: PathPatternCache): PathPattern | undefined {
  if (typeof source !== 'string') return undefined
  try {
    return patterns.get(source)
  } catch {
    return undefined
  }
}

function denies(rules: CompiledRules, path: readonly string[]): boolean {
  for (const deny of rules.denies) {
    if (deny.scope !== undefined && !startsWith(path, deny.scope)) continue
    if (deny.pattern === undefined || deny.pattern.matchesSegments(path)) return true
  }
  return false
}

function grants(rules: CompiledRules, access: Access, path: readonly string[]): boolean {
  // An access that is neither READ nor WRITE (an untyped caller) is granted by nothing.
  const candidates = access === 'WRITE' ? rules.writes : access === 'READ' ? rules.reads : []
  for (const pattern of candidates) {
    if (pattern.matchesSegments(path)) return true
  }
  return false
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  if (path.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) {
    if (path[i] !== prefix[i]) return false
  }
  return true
}
