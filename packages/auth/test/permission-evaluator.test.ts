import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Access, Permission, PermissionRule, Role } from '../src/index.js'
import { defineRole, PathPattern, PermissionEvaluator } from '../src/index.js'

const READ_ALL: Role = defineRole({
  name: 'all',
  scope: { realm: 'r' },
  rules: [{ pattern: '/r/**', permission: 'WRITE' }],
})

function groupRole(group: string, rules: [string, Permission][]): Role {
  return defineRole({
    name: group,
    scope: { realm: 'r', group },
    rules: rules.map(([pattern, permission]) => ({ pattern, permission })),
  })
}

describe('PermissionEvaluator', () => {
  it('grants by the rules of every role, WRITE implying READ', () => {
    const evaluator = new PermissionEvaluator([
      groupRole('x', [['/r/g/x/data/**', 'READ']]),
      groupRole('y', [['/r/g/y/meta/*', 'WRITE']]),
    ])
    expect(evaluator.evaluate('READ', '/r/g/x/data/b/k')).toEqual({ allowed: true })
    expect(evaluator.evaluate('WRITE', '/r/g/x/data/b/k')).toEqual({ allowed: false, reason: 'NoGrant' })
    expect(evaluator.evaluate('WRITE', '/r/g/y/meta/m')).toEqual({ allowed: true })
    expect(evaluator.evaluate('READ', '/r/g/y/meta/m')).toEqual({ allowed: true })
    expect(evaluator.evaluate('READ', '/r/g/y/data/b')).toEqual({ allowed: false, reason: 'NoGrant' })
  })

  it('grants nothing for an access that is neither READ nor WRITE', () => {
    const evaluator = new PermissionEvaluator([READ_ALL])
    expect(evaluator.evaluate('DELETE' as Access, '/r/g/x')).toEqual({ allowed: false, reason: 'NoGrant' })
  })

  it('refuses an invalid path with InvalidPath', () => {
    expect(() => new PermissionEvaluator([READ_ALL]).evaluate('READ', '/r/..')).toThrow(
      expect.objectContaining({ code: 'InvalidPath' }),
    )
  })

  it('sees a change made in place to a role that is not frozen', () => {
    const rules = [{ pattern: '/r/g/x/**', permission: 'WRITE' as Permission }]
    const scope = { realm: 'r', group: 'x' }
    const role: Role = { name: 'mutable', scope, rules }
    expect(new PermissionEvaluator([role]).evaluate('WRITE', '/r/g/x/k')).toEqual({ allowed: true })
    rules[0] = { pattern: '/r/g/x/**', permission: 'READ' }
    expect(new PermissionEvaluator([role]).evaluate('WRITE', '/r/g/x/k')).toEqual({
      allowed: false,
      reason: 'NoGrant',
    })
    Object.freeze(role)
    Object.freeze(scope)
    Object.freeze(rules)
    expect(new PermissionEvaluator([role]).evaluate('READ', '/r/g/x/k')).toEqual({ allowed: true })
    // Its rule object is still mutable, so nothing may be cached.
    Object.assign(rules[0]!, { permission: 'DENY' })
    expect(new PermissionEvaluator([role]).evaluate('READ', '/r/g/x/k')).toEqual({
      allowed: false,
      reason: 'DenyRule',
    })
  })

  it('gives the same decisions for a frozen role on every evaluation', () => {
    const role = groupRole('x', [['/r/g/x/data/**', 'READ']])
    for (let i = 0; i < 3; i++) {
      const evaluator = new PermissionEvaluator([role, role])
      expect(evaluator.evaluate('READ', '/r/g/x/data/k')).toEqual({ allowed: true })
      expect(evaluator.evaluate('WRITE', '/r/g/x/data/k')).toEqual({ allowed: false, reason: 'NoGrant' })
    }
  })

  describe('with roles read back from storage (defensively)', () => {
    const stored = (rules: unknown, scope: unknown = { realm: 'r', group: 'x' }): Role =>
      ({ name: 'stored', scope, rules }) as Role

    it('drops allow rules that do not parse and keeps the rest', () => {
      const evaluator = new PermissionEvaluator([
        stored([
          { pattern: '/r/g/x/a**', permission: 'WRITE' },
          { pattern: 42, permission: 'WRITE' },
          { pattern: '/r/g/x/data/**', permission: 'READ' },
        ]),
      ])
      expect(evaluator.evaluate('READ', '/r/g/x/data/k')).toEqual({ allowed: true })
      expect(evaluator.evaluate('WRITE', '/r/g/x/a')).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('lets a DENY that does not parse deny the whole scope of its role, and only that', () => {
      const evaluator = new PermissionEvaluator([
        READ_ALL,
        stored([{ pattern: '/r/g/x/a**', permission: 'DENY' }]),
      ])
      expect(evaluator.evaluate('READ', '/r/g/x/data/k')).toEqual({ allowed: false, reason: 'DenyRule' })
      expect(evaluator.evaluate('READ', '/r/g/x')).toEqual({ allowed: false, reason: 'DenyRule' })
      expect(evaluator.evaluate('READ', '/r/g/y/data/k')).toEqual({ allowed: true })
    })

    it('takes an unknown permission, a rule that is not a rule or rules that are not a list as DENY', () => {
      for (const rules of [[{ pattern: '/r/g/x/**', permission: 'deny' }], [null], 'all']) {
        const evaluator = new PermissionEvaluator([READ_ALL, stored(rules)])
        expect(evaluator.evaluate('READ', '/r/g/x/k')).toEqual({ allowed: false, reason: 'DenyRule' })
        expect(evaluator.evaluate('READ', '/r/g/y/k')).toEqual({ allowed: true })
      }
    })

    it('lets a role with a malformed scope grant nothing, while its DENY rules apply', () => {
      const evaluator = new PermissionEvaluator([
        READ_ALL,
        stored(
          [
            { pattern: '/s/**', permission: 'WRITE' },
            { pattern: '/r/g/y/**', permission: 'DENY' },
          ],
          { realm: 'r/g' },
        ),
      ])
      expect(evaluator.evaluate('READ', '/s/x')).toEqual({ allowed: false, reason: 'NoGrant' })
      expect(evaluator.evaluate('READ', '/r/g/y/k')).toEqual({ allowed: false, reason: 'DenyRule' })
      expect(evaluator.evaluate('READ', '/r/g/x/k')).toEqual({ allowed: true })
    })

    it('skips entries that are not roles at all', () => {
      const evaluator = new PermissionEvaluator([null as unknown as Role, READ_ALL])
      expect(evaluator.evaluate('WRITE', '/r/g/x/k')).toEqual({ allowed: true })
    })

    it('denies everything when restrictions are not a list or a restriction is unreadable', () => {
      for (const restrictions of ['all', [{ pattern: 'relative', permission: 'DENY' }]]) {
        const evaluator = new PermissionEvaluator([READ_ALL], {
          restrictions: restrictions as PermissionRule[],
        })
        expect(evaluator.evaluate('READ', '/r/g/x/k')).toEqual({ allowed: false, reason: 'Restricted' })
      }
    })
  })
})

// ---------------------------------------------------------------------------------------------------
// Properties. Paths and patterns are drawn from a small alphabet so that rules often match.

const GROUPS = ['x', 'y'] as const
const tailSegment = fc.constantFrom('data', 'meta', 'b', 'k', '*', '**', 'k*', '')
const pathTail = fc.array(fc.constantFrom('data', 'meta', 'b', 'k', 'kk', ''), { maxLength: 4 })
const path = fc.oneof(
  fc.tuple(fc.constantFrom(...GROUPS), pathTail).map(([g, tail]) => ['r', 'g', g, ...tail]),
  pathTail.map((tail) => ['r', 'admin', ...tail]),
)
const access = fc.constantFrom<Access>('READ', 'WRITE')
const permission = fc.constantFrom<Permission>('READ', 'WRITE', 'DENY')
/** A pattern inside `prefix`: the prefix, then a tail of (non-empty) pattern segments. */
const patternUnder = (prefix: readonly string[]) =>
  fc
    .array(
      tailSegment.filter((s) => s !== ''),
      { maxLength: 3 },
    )
    .map((tail) => `/${[...prefix, ...tail].join('/')}`)
const scopeOf = fc.constantFrom<readonly [string | undefined]>(['x'], ['y'], [undefined])
const role = scopeOf.chain(([group]) => {
  const prefix = group === undefined ? ['r'] : ['r', 'g', group]
  return fc
    .array(fc.record({ pattern: patternUnder(prefix), permission }), { maxLength: 5 })
    .map((rules) =>
      defineRole({ name: 'p', scope: group === undefined ? { realm: 'r' } : { realm: 'r', group }, rules }),
    )
})
const roles = fc.array(role, { maxLength: 4 })
const restrictions = fc.option(
  fc.array(fc.record({ pattern: patternUnder(['r']), permission }), { maxLength: 4 }),
  {
    nil: undefined,
  },
)

const matches = (rule: PermissionRule, segments: string[]) =>
  PathPattern.parse(rule.pattern).matchesSegments(segments)
const allows = (rules: readonly PermissionRule[], a: Access, segments: string[]) =>
  !rules.some((r) => r.permission === 'DENY' && matches(r, segments)) &&
  rules.some((r) => (r.permission === 'WRITE' || r.permission === a) && matches(r, segments))

function shuffled<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, key: keys[i % Math.max(keys.length, 1)] ?? 0, i }))
    .sort((a, b) => a.key - b.key || b.i - a.i)
    .map(({ item }) => item)
}

describe('PermissionEvaluator properties', () => {
  it('decides as the plain definition says: no matching DENY, and a matching grant', () => {
    fc.assert(
      fc.property(roles, restrictions, access, path, (rs, restr, a, segments) => {
        const rules = rs.flatMap((r) => r.rules)
        const expected = allows(rules, a, segments) && (restr === undefined || allows(restr, a, segments))
        const decision = new PermissionEvaluator(rs, { restrictions: restr }).evaluateSegments(a, segments)
        expect(decision.allowed).toBe(expected)
      }),
      { numRuns: 3000 },
    )
  })

  it('lets a matching DENY win over every allow, wherever it is among the roles', () => {
    // A DENY built to match the path: some of its segments widened to `*`, its tail maybe cut to `**`.
    const denyFor = (segments: string[], widen: boolean[], cut: number | undefined) => {
      const kept = segments.map((s, i) => (i > 0 && widen[i] === true ? '*' : s))
      const parts = cut === undefined ? kept : [...kept.slice(0, Math.max(1, cut)), '**']
      return `/${parts.map((s) => (s === '' ? '*' : s)).join('/')}`
    }
    fc.assert(
      fc.property(
        roles,
        access,
        path,
        fc.array(fc.boolean(), { maxLength: 7 }),
        fc.option(fc.nat(6), { nil: undefined }),
        fc.nat(),
        (rs, a, segments, widen, cut, at) => {
          const pattern = denyFor(segments, widen, cut)
          const deny = defineRole({
            name: 'deny',
            scope: { realm: 'r' },
            rules: [{ pattern, permission: 'DENY' }],
          })
          const everything = [...rs, READ_ALL, groupRole('x', [['/r/g/x/**', 'WRITE']])]
          const withDeny = everything.toSpliced(at % (everything.length + 1), 0, deny)
          const decision = new PermissionEvaluator(withDeny).evaluateSegments(a, segments)
          expect(decision).toEqual({ allowed: false, reason: 'DenyRule' })
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('does not depend on the order of roles, of rules or of restrictions', () => {
    fc.assert(
      fc.property(
        roles,
        restrictions,
        access,
        path,
        fc.array(fc.integer()),
        (rs, restr, a, segments, keys) => {
          const reordered = shuffled(rs, keys).map((r) => ({
            ...r,
            rules: shuffled(r.rules, keys.toReversed()),
          }))
          const restrReordered = restr === undefined ? undefined : shuffled(restr, keys)
          const before = new PermissionEvaluator(rs, { restrictions: restr }).evaluateSegments(a, segments)
          const after = new PermissionEvaluator(reordered, { restrictions: restrReordered }).evaluateSegments(
            a,
            segments,
          )
          expect(after).toEqual(before)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('only ever narrows by restrictions', () => {
    fc.assert(
      fc.property(roles, restrictions, access, path, (rs, restr, a, segments) => {
        const narrowed = new PermissionEvaluator(rs, { restrictions: restr }).evaluateSegments(a, segments)
        const plain = new PermissionEvaluator(rs).evaluateSegments(a, segments)
        if (narrowed.allowed) expect(plain.allowed).toBe(true)
        if (!plain.allowed) expect(narrowed).toEqual(plain)
      }),
      { numRuns: 2000 },
    )
  })

  it("never lets a group's role grant outside the group, whatever its stored rules say", () => {
    const anyPattern = fc
      .array(fc.constantFrom('r', 'g', 'x', 'y', 'admin', 'data', '*', '**', 'x*'), {
        minLength: 1,
        maxLength: 5,
      })
      .map((s) => `/${s.join('/')}`)
    const stored = fc
      .array(fc.record({ pattern: anyPattern, permission }), { maxLength: 6 })
      .map((rules): Role => ({ name: 'stored', scope: { realm: 'r', group: 'x' }, rules }))
    fc.assert(
      fc.property(stored, access, path, (role, a, segments) => {
        const outside = segments[1] !== 'g' || segments[2] !== 'x'
        fc.pre(outside)
        expect(new PermissionEvaluator([role]).evaluateSegments(a, segments).allowed).toBe(false)
      }),
      { numRuns: 2000 },
    )
  })
})
