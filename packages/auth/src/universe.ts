import type { PathPatternCache } from './path-pattern.js'
import type { CompiledRuleView } from './permission-evaluator.js'
import { PermissionEvaluator } from './permission-evaluator.js'
import type { Principal, Role, RoleSource } from './port.js'
import type { Bitmap, OrdinalSet } from './universe-bitmap.js'
import { intersectionOf, unionOf } from './universe-bitmap.js'
import type { UniverseIndex, UniverseIndexListener } from './universe-index.js'

/**
 * A caller's *universe*: the ordinals of every resource they may READ, computed from the same compiled
 * rules `PermissionEvaluator` applies to one path, so that for every indexed resource
 * `universe.has(ordinal)` ⟺ it is public, or `evaluator.evaluate('READ', path)` allows it:
 *
 *   universe = public ∪ ((⋃ allows − ⋃ denies) ∩ (⋃ restriction allows − ⋃ restriction denies))
 *
 * Public resources are in every universe (anyone may read them, even without logging in, so a DENY
 * hiding them from one user would hide nothing). A new bitmap, owned by the caller.
 */
export function computeUniverse(index: UniverseIndex, evaluator: PermissionEvaluator): Bitmap {
  const { grants, restrictions } = evaluator.compiledRules()
  const allowed = allowedBy(index, grants)
  if (restrictions !== undefined && !allowed.isEmpty) allowed.andInPlace(allowedBy(index, restrictions))
  allowed.orInPlace(index.publicOrdinals as Bitmap)
  return allowed
}

/** The ordinals one compiled rule set lets READ: its read patterns, less what its denies match. */
function allowedBy(index: UniverseIndex, rules: CompiledRuleView): Bitmap {
  const allowed = unionOf(rules.reads.map((pattern) => index.patternBitmap(pattern)))
  if (allowed.isEmpty || rules.denies.length === 0) return allowed
  const denied = rules.denies.map((deny) => {
    // A DENY without a readable pattern denies its whole scope (`[]`: everything).
    if (deny.pattern === undefined) return index.prefixBitmap(deny.scope ?? [])
    const matched = index.patternBitmap(deny.pattern)
    // A DENY reaching outside its role's scope only applies inside it.
    return deny.scope === undefined ? matched : intersectionOf(matched, index.prefixBitmap(deny.scope))
  })
  allowed.andNotInPlace(unionOf(denied))
  return allowed
}

/**
 * Keeps only the `hits` (ordinals, e.g. search results in rank order) that are in `universe`, in their
 * order. Unauthorized resources are invisible: callers count and page what this returns, never `hits`.
 */
export function visibleOrdinals(universe: OrdinalSet, hits: Iterable<number>): number[] {
  const visible: number[] = []
  for (const hit of hits) if (universe.has(hit)) visible.push(hit)
  return visible
}

export interface SearchUniversesInit {
  readonly index: UniverseIndex
  /** Where users' roles come from (the same source as the authorizer's). */
  readonly roles: RoleSource
  /** How many universes are kept (one per user and set of token restrictions). Default 1024. */
  readonly capacity?: number
  /** Compiled patterns shared with the authorizer; default: the package's shared cache. */
  readonly patterns?: PathPatternCache
}

interface CachedUniverse {
  /** The roles and restrictions the universe was computed for, as text, to notice a change. */
  readonly fingerprint: string
  readonly evaluator: PermissionEvaluator
  readonly bitmap: Bitmap
}

/**
 * The universes of the callers of one node, computed once and then maintained incrementally:
 * - a resource added, removed or made (non-)public updates every kept universe by one ordinal (one
 *   permission check per kept universe, not a recomputation);
 * - a role change is noticed on the next `universeFor` (the roles are compared with those the universe
 *   was made from) and the universe is recomputed from the index's cached prefix and pattern bitmaps.
 *
 * The sets handed out are live: they follow later changes of the index until they are evicted or
 * recomputed. Read them, never change them.
 */
export class SearchUniverses {
  readonly #index: UniverseIndex
  readonly #roles: RoleSource
  readonly #capacity: number
  readonly #patterns: PathPatternCache | undefined
  /** Least recently used first. */
  readonly #universes = new Map<string, CachedUniverse>()
  readonly #unsubscribe: () => void

  constructor(init: SearchUniversesInit) {
    this.#index = init.index
    this.#roles = init.roles
    this.#capacity = init.capacity ?? 1024
    this.#patterns = init.patterns
    const listener: UniverseIndexListener = {
      added: (ordinal, path, isPublic) => {
        for (const u of this.#universes.values()) {
          if (isPublic || u.evaluator.evaluateSegments('READ', path).allowed) u.bitmap.add(ordinal)
        }
      },
      removed: (ordinal) => {
        for (const u of this.#universes.values()) u.bitmap.remove(ordinal)
      },
      publicChanged: (ordinal, path, isPublic) => {
        for (const u of this.#universes.values()) {
          if (isPublic) u.bitmap.add(ordinal)
          else if (!u.evaluator.evaluateSegments('READ', path).allowed) u.bitmap.remove(ordinal)
        }
      },
    }
    this.#unsubscribe = this.#index.subscribe(listener)
  }

  /** The universe of `principal`, with their roles from the role source. */
  async universeFor(principal: Principal): Promise<OrdinalSet> {
    return this.universeForRoles(principal, await this.#roles.rolesFor(principal.userId))
  }

  /** The universe of `principal` holding `roles` (for callers that already have the roles). */
  universeForRoles(principal: Principal, roles: readonly Role[]): OrdinalSet {
    const key = `${principal.userId}\n${fingerprintOf(principal.restrictions)}`
    const fingerprint = fingerprintOf(roles)
    const cached = this.#universes.get(key)
    if (cached !== undefined) {
      this.#universes.delete(key)
      if (cached.fingerprint === fingerprint) {
        this.#universes.set(key, cached)
        return cached.bitmap
      }
    }
    const evaluator = new PermissionEvaluator(roles, {
      ...(principal.restrictions === undefined ? {} : { restrictions: principal.restrictions }),
      ...(this.#patterns === undefined ? {} : { patterns: this.#patterns }),
    })
    const bitmap = computeUniverse(this.#index, evaluator)
    if (this.#universes.size >= this.#capacity) {
      const oldest = this.#universes.keys().next()
      if (oldest.done !== true) this.#universes.delete(oldest.value)
    }
    this.#universes.set(key, { fingerprint, evaluator, bitmap })
    return bitmap
  }

  /** Forgets the universes of `userId` (all of them without an argument). */
  invalidate(userId?: string): void {
    if (userId === undefined) {
      this.#universes.clear()
      return
    }
    for (const key of [...this.#universes.keys()]) {
      if (key.slice(0, key.indexOf('\n')) === userId) this.#universes.delete(key)
    }
  }

  /** How many universes are kept. */
  get size(): number {
    return this.#universes.size
  }

  /** Stops following the index (the kept universes are dropped). */
  close(): void {
    this.#unsubscribe()
    this.#universes.clear()
  }
}

/**
 * Roles and restrictions as text, to tell whether they changed. Role sources may hand out new objects
 * on every call (orga reads them from its documents), so identity would not do; what cannot be
 * serialised gets a fingerprint of its own, which never matches (it is recomputed every time).
 */
function fingerprintOf(value: unknown): string {
  if (value === undefined) return ''
  try {
    return JSON.stringify(value)
  } catch {
    return `unserialisable:${Math.random()}`
  }
}
