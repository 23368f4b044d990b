import { describe, expect, it } from 'vitest'
import {
  checkRealmTokenValidity,
  checkTokenSize,
  formatRealmSubject,
  MAX_JTI_LENGTH,
  MAX_TOKEN_LENGTH,
  nowSeconds,
  parseRealmSubject,
  parseRealmTokenClaims,
  principalOf,
} from '../src/index.js'

const valid = { sub: 'u1@realm', iss: 'realm', iat: 100, exp: 200, jti: 'j' }

describe('realm token subjects', () => {
  it('formats and parses user@realm, splitting at the last @', () => {
    expect(formatRealmSubject('u1', 'realm')).toBe('u1@realm')
    expect(parseRealmSubject('u1@realm')).toEqual({ user: 'u1', realm: 'realm' })
    expect(parseRealmSubject('a@b@realm')).toEqual({ user: 'a@b', realm: 'realm' })
  })

  it.each(['realm', '@realm', 'u1@', ''])('refuses the subject %j', (sub) => {
    expect(() => parseRealmSubject(sub)).toThrow(expect.objectContaining({ code: 'MalformedToken' }))
  })

  it('makes a principal of a verified token, with its restrictions', () => {
    const restrictions = [{ pattern: '/realm/**', permission: 'READ' as const }]
    expect(principalOf(valid)).toEqual({ userId: 'u1' })
    expect(principalOf({ ...valid, restrictions })).toEqual({ userId: 'u1', restrictions })
  })
})

describe('parseRealmTokenClaims', () => {
  it('keeps the known claims only, frozen', () => {
    const claims = parseRealmTokenClaims({ ...valid, nbf: 150, extra: 'dropped' })
    expect(claims).toEqual({ ...valid, nbf: 150 })
    expect(Object.isFrozen(claims)).toBe(true)
  })

  it('validates restrictions', () => {
    const restrictions = [{ pattern: '/realm/g/x/**', permission: 'WRITE' }]
    expect(parseRealmTokenClaims({ ...valid, restrictions }).restrictions).toEqual(restrictions)
    expect(() =>
      parseRealmTokenClaims({ ...valid, restrictions: [{ pattern: 'x', permission: 'READ' }] }),
    ).toThrow(
      expect.objectContaining({ code: 'MalformedToken', message: expect.stringContaining('absolute') }),
    )
  })

  it.each([
    [null, /object/],
    ['{}', /object/],
    [{ ...valid, iss: '' }, /iss/],
    [{ ...valid, sub: 5 }, /sub/],
    [{ ...valid, sub: 'u1@other' }, /sub's realm must be iss/],
    [{ ...valid, jti: 'j'.repeat(MAX_JTI_LENGTH + 1) }, /jti/],
    [{ ...valid, jti: 3 }, /jti/],
    [{ ...valid, iat: '100' }, /iat/],
    [{ ...valid, exp: 200.5 }, /exp/],
    [{ ...valid, exp: -1 }, /exp/],
    [{ ...valid, exp: 100 }, /exp must be after iat/],
    [{ ...valid, nbf: null }, /nbf/],
  ])('refuses %j with MalformedToken', (payload, message) => {
    expect(() => parseRealmTokenClaims(payload)).toThrow(
      expect.objectContaining({ code: 'MalformedToken', message: expect.stringMatching(message) }),
    )
  })
})

describe('checkRealmTokenValidity', () => {
  it('checks realm first, then the window from nbf (or iat) to exp', () => {
    const at =
      (now: number, claims: object = valid) =>
      () =>
        checkRealmTokenValidity({ ...valid, ...claims }, { realm: 'realm', now })
    expect(at(150)).not.toThrow()
    expect(at(99)).toThrow(expect.objectContaining({ code: 'TokenNotYetValid' }))
    expect(at(200)).toThrow(expect.objectContaining({ code: 'TokenExpired' }))
    expect(at(120, { nbf: 130 })).toThrow(expect.objectContaining({ code: 'TokenNotYetValid' }))
    expect(at(300, { iss: 'other' })).toThrow(expect.objectContaining({ code: 'WrongRealm' }))
  })
})

describe('checkTokenSize', () => {
  it('refuses non-strings and oversized tokens', () => {
    expect(() => checkTokenSize('x'.repeat(MAX_TOKEN_LENGTH))).not.toThrow()
    expect(() => checkTokenSize('x'.repeat(MAX_TOKEN_LENGTH + 1))).toThrow(
      expect.objectContaining({ code: 'TokenTooLarge' }),
    )
    expect(() => checkTokenSize(null)).toThrow(expect.objectContaining({ code: 'MalformedToken' }))
  })

  it('reads the clock in whole seconds', () => {
    const now = nowSeconds()
    expect(Number.isInteger(now)).toBe(true)
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(2)
  })
})
