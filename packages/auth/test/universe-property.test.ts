import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Permission, PermissionRule, Principal, Role } from '../src/index.js'
import {
  computeUniverse,
  defineRole,
  MemoryRoleSource,
  PermissionEvaluator,
  SearchUniverses,
  UniverseIndex,
} from '../src/index.js'

/**
 * Properties of the bitmap universes over random indexes, roles and changes:
 * 1. from scratch, a universe holds exactly the public resources and those the evaluator lets READ;
 * 2. a universe maintained incrementally through adds, removes, re-publications and role changes equals
 *    the one computed from scratch over the final state.
 */

const SEGMENT = fc.constantFrom('a', 'b', 'x.csv', 'y.csv', 'raw', 'data', '')
const GROUP = fc.constantFrom('g1', 'g2')

function pathIn(group: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return (
    fc
      .tuple(
        group,
        fc.constantFrom('data', 'meta', 'admin'),
        fc.array(SEGMENT, { minLength: 1, maxLength: 4 }),
      )
      // An empty last segment is an S3 folder marker (`dir/`); empty inner ones are `a//b`.
      .map(([g, kind, rest]) => `/r/g/${g}/${kind}/${rest.join('/')}`)
  )
}

const PATH = pathIn(GROUP)

const PATTERN_SEGMENT = fc.constantFrom('*', '**', 'a', 'b', 'raw', 'data', 'meta', '*.csv', 'x*', '*a*')
const PERMISSION = fc.constantFrom<Permission>('READ', 'WRITE', 'DENY')

/** A pattern of random segments under `prefix`. */
function patternUnder(prefix: string): fc.Arbitrary<string> {
  return fc.array(PATTERN_SEGMENT, { minLength: 0, maxLength: 4 }).map((tail) => [prefix, ...tail].join('/'))
}

/**
 * A pattern made from a path, so that it often matches resources: cut short, some segments after the
 * first `keep` turned into `*`, `**` or a glob, maybe a `**` at the end.
 */
function patternFrom(path: fc.Arbitrary<string>, keep: number): fc.Arbitrary<string> {
  const how = fc.constantFrom('same', 'same', '*', '**', 'glob')
  return fc
    .tuple(path, fc.nat(6), fc.array(how, { minLength: 8, maxLength: 8 }), fc.boolean())
    .map(([p, cut, hows, tail]) => {
      const segments = p.slice(1).split('/')
      const n = Math.max(keep, Math.min(segments.length, keep + cut))
      const out = segments.slice(0, n).map((s, i) => {
        const h = hows[i]
        if (i < keep) return s
        if (h === '*' || s === '') return '*'
        if (h === '**') return '**'
        if (h === 'glob') return s.length > 1 ? `${s[0]}*` : '*'
        return s
      })
      if (tail) out.push('**')
      return `/${out.join('/')}`
    })
}

/** Patterns anywhere in the realm, biased towards ones that reach into the groups. */
const REALM_PATTERN = fc.oneof(
  patternFrom(PATH, 1),
  patternFrom(PATH, 1),
  patternUnder('/r/g/*'),
  patternUnder('/r/**'),
  patternUnder('/r'),
)

const GROUP_ROLE = GROUP.chain((group) =>
  fc
    .array(
      fc.record({
        pattern: fc.oneof(patternFrom(pathIn(fc.constant(group)), 3), patternUnder(`/r/g/${group}`)),
        permission: PERMISSION,
      }),
      { maxLength: 4 },
    )
    .map((rules) => defineRole({ name: `role-${group}`, scope: { realm: 'r', group }, rules })),
)

const REALM_ROLE = fc
  .array(fc.record({ pattern: REALM_PATTERN, permission: PERMISSION }), { maxLength: 3 })
  .map((rules) => defineRole({ name: 'realm-role', scope: { realm: 'r' }, rules }))

/** A role as it might come back from storage: rules reaching outside its scope, or not parsing. */
const STORED_ROLE: fc.Arbitrary<Role> = fc
  .tuple(
    GROUP,
    fc.array(
      fc.record({
        pattern: fc.oneof(REALM_PATTERN, REALM_PATTERN, REALM_PATTERN, fc.constant('bad')),
        permission: PERMISSION,
      }),
      { maxLength: 3 },
    ),
  )
  .map(([group, rules]) => ({ name: 'stored', scope: { realm: 'r', group }, rules }))

/** A few roles of each kind (their order never matters). */
const ROLES = fc
  .tuple(
    fc.array(GROUP_ROLE, { maxLength: 2 }),
    fc.array(REALM_ROLE, { maxLength: 1 }),
    fc.array(STORED_ROLE, { maxLength: 2 }),
  )
  .map(([group, realm, stored]) => [...stored, ...group, ...realm])

const RESTRICTIONS: fc.Arbitrary<readonly PermissionRule[] | undefined> = fc.option(
  fc.array(fc.record({ pattern: REALM_PATTERN, permission: PERMISSION }), { maxLength: 3 }),
  { nil: undefined },
)

const RESOURCES = fc.array(fc.tuple(fc.nat(60), PATH, fc.boolean()), { maxLength: 40 })

type Change =
  | { kind: 'add'; ordinal: number; path: string; isPublic: boolean }
  | { kind: 'remove'; ordinal: number }
  | { kind: 'public'; ordinal: number; isPublic: boolean }
  | { kind: 'roles'; roles: Role[] }
  | { kind: 'query' }

const CHANGE: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), ordinal: fc.nat(60), path: PATH, isPublic: fc.boolean() }),
  fc.record({ kind: fc.constant('remove' as const), ordinal: fc.nat(60) }),
  fc.record({ kind: fc.constant('public' as const), ordinal: fc.nat(60), isPublic: fc.boolean() }),
  fc.record({ kind: fc.constant('roles' as const), roles: ROLES }),
  fc.record({ kind: fc.constant('query' as const) }),
)

const MATERIALISE_AT = fc.constantFrom(1, 2, 5, 64)

function expected(
  index: UniverseIndex,
  evaluator: PermissionEvaluator,
  ordinals: Iterable<number>,
): number[] {
  const out: number[] = []
  for (const ordinal of ordinals) {
    const path = index.pathOf(ordinal)
    if (path === undefined) continue
    if (index.publicOrdinals.has(ordinal) || evaluator.evaluate('READ', path).allowed) out.push(ordinal)
  }
  return out.sort((a, b) => a - b)
}

describe('bitmap universes (properties)', () => {
  it('hold exactly the public resources and those the evaluator lets READ', () => {
    fc.assert(
      fc.property(
        RESOURCES,
        ROLES,
        RESTRICTIONS,
        MATERIALISE_AT,
        (resources, roles, restrictions, materialiseAt) => {
          const index = new UniverseIndex({ materialiseAt })
          for (const [ordinal, path, isPublic] of resources) index.add(ordinal, path, { public: isPublic })
          const evaluator = new PermissionEvaluator(roles, restrictions === undefined ? {} : { restrictions })
          const universe = computeUniverse(index, evaluator)
          const all = resources.map(([o]) => o)
          expect([...universe.toUint32Array()]).toEqual(expected(index, evaluator, new Set(all)))
        },
      ),
      { numRuns: 400 },
    )
  })

  it('maintained incrementally, equal the universe computed from scratch', () => {
    fc.assert(
      fc.property(
        RESOURCES,
        ROLES,
        RESTRICTIONS,
        fc.array(CHANGE, { maxLength: 30 }),
        MATERIALISE_AT,
        (resources, roles, restrictions, changes, materialiseAt) => {
          const index = new UniverseIndex({ materialiseAt, patternCapacity: 8 })
          for (const [ordinal, path, isPublic] of resources) index.add(ordinal, path, { public: isPublic })
          const source = new MemoryRoleSource().set('alice', roles)
          const universes = new SearchUniverses({ index, roles: source })
          const principal: Principal =
            restrictions === undefined ? { userId: 'alice' } : { userId: 'alice', restrictions }
          let current = roles
          universes.universeForRoles(principal, current)
          for (const change of changes) {
            if (change.kind === 'add') index.add(change.ordinal, change.path, { public: change.isPublic })
            else if (change.kind === 'remove') index.remove(change.ordinal)
            else if (change.kind === 'public') index.setPublic(change.ordinal, change.isPublic)
            else if (change.kind === 'roles') current = change.roles
            else universes.universeForRoles(principal, current)
          }
          const incremental = universes.universeForRoles(principal, current)

          // From scratch: a fresh index holding the final state, a fresh evaluator.
          const fresh = new UniverseIndex()
          const ordinals = [...index.prefixBitmap([]).toUint32Array()]
          for (const ordinal of ordinals) {
            fresh.add(ordinal, index.pathOf(ordinal)!, { public: index.publicOrdinals.has(ordinal) })
          }
          const evaluator = new PermissionEvaluator(
            current,
            restrictions === undefined ? {} : { restrictions },
          )
          const scratch = computeUniverse(fresh, evaluator)
          expect([...incremental.toUint32Array()]).toEqual([...scratch.toUint32Array()])
          expect([...scratch.toUint32Array()]).toEqual(expected(fresh, evaluator, ordinals))
        },
      ),
      { numRuns: 300 },
    )
  })
})
