import { describe, expect, it } from 'vitest'
import type { Role } from '../src/index.js'
import {
  AuthError,
  checkPermissionRules,
  defineRole,
  isAuthError,
  isValidScope,
  scopePattern,
} from '../src/index.js'

function refusal(role: unknown): AuthError {
  try {
    defineRole(role as Role)
  } catch (err) {
    if (err instanceof AuthError) return err
    throw err
  }
  throw new Error('expected the role to be refused')
}

describe('defineRole', () => {
  it('returns a frozen copy of a valid group role', () => {
    const input = {
      name: 'editors',
      scope: { realm: 'r', group: 'x' },
      rules: [
        { pattern: '/r/g/x/data/**', permission: 'WRITE' as const },
        { pattern: '/r/g/x/data/b/secret/**', permission: 'DENY' as const },
        { pattern: '/r/g/x', permission: 'READ' as const },
      ],
    }
    const role = defineRole(input)
    expect(role).toEqual(input)
    expect(role).not.toBe(input)
    expect(Object.isFrozen(role)).toBe(true)
    expect(Object.isFrozen(role.rules)).toBe(true)
    expect(Object.isFrozen(role.rules[0])).toBe(true)
  })

  it('accepts a realm role anywhere in its realm', () => {
    const role = defineRole({
      name: 'admins',
      scope: { realm: 'r' },
      rules: [{ pattern: '/r/**', permission: 'WRITE' }],
    })
    expect(role.scope).toEqual({ realm: 'r' })
  })

  it.each([
    ['/r/g/y/**', 'rule 1'],
    ['/r/**', 'rule 1'],
    ['/r/g/*/data', 'rule 1'],
    ['/r/g/x*/data', 'rule 1'],
    ['/r/g', 'rule 1'],
    ['/other/g/x/**', 'rule 1'],
  ])('refuses a group rule %s that reaches outside the group, naming the rule', (pattern, where) => {
    const err = refusal({
      name: 'g',
      scope: { realm: 'r', group: 'x' },
      rules: [{ pattern, permission: 'READ' }],
    })
    expect(err.code).toBe('RuleOutsideScope')
    expect(err.message).toContain(where)
    expect(err.message).toContain(scopePattern({ realm: 'r', group: 'x' }))
  })

  it('refuses a DENY outside the scope too', () => {
    const err = refusal({
      name: 'g',
      scope: { realm: 'r', group: 'x' },
      rules: [
        { pattern: '/r/g/x/**', permission: 'READ' },
        { pattern: '/r/g/y/**', permission: 'DENY' },
      ],
    })
    expect(err).toMatchObject({ code: 'RuleOutsideScope', message: expect.stringContaining('rule 2') })
  })

  it('refuses a realm rule outside the realm', () => {
    const err = refusal({ name: 'a', scope: { realm: 'r' }, rules: [{ pattern: '/**', permission: 'READ' }] })
    expect(err).toMatchObject({ code: 'RuleOutsideScope', message: expect.stringContaining('"/r/**"') })
  })

  it('refuses a rule whose pattern does not parse, saying where', () => {
    const err = refusal({
      name: 'g',
      scope: { realm: 'r' },
      rules: [{ pattern: '/r/a**', permission: 'READ' }],
    })
    expect(err.code).toBe('InvalidPattern')
    expect(err.message).toMatch(/rule 1: invalid path pattern "\/r\/a\*\*": segment 2/)
  })

  it.each([
    [{ scope: { realm: 'r' }, rules: [] }, /non-empty name/],
    [{ name: '  ', scope: { realm: 'r' }, rules: [] }, /non-empty name/],
    [{ name: 'n', rules: [] }, /scope is/],
    [{ name: 'n', scope: { realm: '' }, rules: [] }, /realm must be one path segment/],
    [{ name: 'n', scope: { realm: 'a/b' }, rules: [] }, /realm must be one path segment/],
    [{ name: 'n', scope: { realm: 'r', group: '*' }, rules: [] }, /group must be one path segment/],
    [{ name: 'n', scope: { realm: 'r', group: '..' }, rules: [] }, /group must be one path segment/],
    [{ name: 'n', scope: { realm: 'r' } }, /rules must be a list/],
    [{ name: 'n', scope: { realm: 'r' }, rules: [null] }, /a rule is/],
    [
      { name: 'n', scope: { realm: 'r' }, rules: [{ pattern: '/r', permission: 'read' }] },
      /READ, WRITE or DENY/,
    ],
  ])('refuses a malformed role %j with InvalidRole', (role, message) => {
    const err = refusal(role)
    expect(err.code).toBe('InvalidRole')
    expect(err.message).toMatch(message)
  })

  it('refuses a pattern that is not a string', () => {
    const err = refusal({ name: 'n', scope: { realm: 'r' }, rules: [{ pattern: 3, permission: 'READ' }] })
    expect(err).toMatchObject({
      code: 'InvalidPattern',
      message: expect.stringContaining('must be a string'),
    })
  })
})

describe('checkPermissionRules', () => {
  it('accepts rules anywhere, and refuses what is not a list of rules', () => {
    expect(checkPermissionRules([{ pattern: '/**', permission: 'DENY' }])).toEqual([
      { pattern: '/**', permission: 'DENY' },
    ])
    expect(() => checkPermissionRules('nope')).toThrow(expect.objectContaining({ code: 'InvalidRole' }))
    expect(() => checkPermissionRules([{ pattern: '//', permission: 'READ' }])).toThrow(
      expect.objectContaining({
        code: 'InvalidPattern',
        message: expect.stringContaining('restrictions, rule 1'),
      }),
    )
  })
})

describe('isValidScope', () => {
  it('tells well-formed scopes from the rest', () => {
    expect(isValidScope({ realm: 'r' })).toBe(true)
    expect(isValidScope({ realm: 'r', group: 'g' })).toBe(true)
    for (const bad of [null, 'r', {}, { realm: 'r', group: '' }, { realm: 'a\nb' }, { realm: '.' }]) {
      expect(isValidScope(bad)).toBe(false)
    }
  })
})

describe('AuthError', () => {
  it('carries a code and tells itself apart', () => {
    const err = new AuthError('AccessDenied', 'no', { cause: 'why' })
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ name: 'AuthError', code: 'AccessDenied', message: 'no', cause: 'why' })
    expect(isAuthError(err)).toBe(true)
    expect(isAuthError(err, 'AccessDenied')).toBe(true)
    expect(isAuthError(err, 'Revoked')).toBe(false)
    expect(isAuthError(new Error('no'))).toBe(false)
  })
})
