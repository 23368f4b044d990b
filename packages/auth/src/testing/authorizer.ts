import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Access, Authorizer, Decision, Permission, Principal, Role } from '../port.js'
import { defineRole } from '../role.js'
import type { TestSetup } from './setup.js'
import { expectCode } from './token-verifier.js'

/** What the Authorizer suite needs: the authorizer, and a way to give a user their effective roles. */
export interface AuthorizerFixture {
  readonly authorizer: Authorizer
  /** Replaces the effective roles of `userId` (they apply to the next call). */
  setRoles(userId: string, roles: readonly Role[]): Promise<void>
}

const R = 'realm1'
const G = 'grp1'
const G2 = 'grp2'
const ALICE: Principal = { userId: 'alice' }
const group = (g = G) => `/${R}/g/${g}`
const data = (key: string, bucket = 'b1', g = G) => `${group(g)}/data/${bucket}/${key}`

/** A group role (of `G` unless told) built by `defineRole`. */
function role(rules: [string, Permission][], g = G): Role {
  return defineRole({ name: 'r', scope: { realm: R, group: g }, rules: asRules(rules) })
}

/** A realm role of `R` built by `defineRole`. */
function realmRole(rules: [string, Permission][]): Role {
  return defineRole({ name: 'realm', scope: { realm: R }, rules: asRules(rules) })
}

function asRules(rules: [string, Permission][]) {
  return rules.map(([pattern, permission]) => ({ pattern, permission }))
}

/** Runs the behavioural tests every `Authorizer` must pass. */
export function runAuthorizerTests(common: TestSetup<AuthorizerFixture>): void {
  describe('Authorizer compliance', () => {
    let fx: AuthorizerFixture
    const decide = (access: Access, path: string, principal: Principal = ALICE): Promise<Decision> =>
      fx.authorizer.authorize(principal, access, path)

    beforeEach(async () => {
      fx = await common.setup()
    })

    afterEach(async () => {
      await common.teardown(fx)
    })

    it('refuses a user without roles (NoGrant)', async () => {
      expect(await decide('READ', data('k'))).toEqual({ allowed: false, reason: 'NoGrant' })
      expect(await decide('WRITE', data('k'))).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('grants READ where a READ rule matches, and not WRITE', async () => {
      await fx.setRoles('alice', [role([[data('**'), 'READ']])])
      expect(await decide('READ', data('k'))).toEqual({ allowed: true })
      expect(await decide('WRITE', data('k'))).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('grants READ where a WRITE rule matches (WRITE implies READ)', async () => {
      await fx.setRoles('alice', [role([[data('**'), 'WRITE']])])
      expect(await decide('WRITE', data('k'))).toEqual({ allowed: true })
      expect(await decide('READ', data('k'))).toEqual({ allowed: true })
    })

    it('decides for the asking user only', async () => {
      await fx.setRoles('alice', [role([[data('**'), 'WRITE']])])
      expect(await decide('READ', data('k'), { userId: 'bob' })).toEqual({
        allowed: false,
        reason: 'NoGrant',
      })
    })

    it('denies a path a DENY rule matches even when an allow rule also matches, in any order', async () => {
      const allow: [string, Permission] = [data('**'), 'WRITE']
      const deny: [string, Permission] = [data('secret/**'), 'DENY']
      for (const roles of [[role([allow, deny])], [role([deny, allow])], [role([deny]), role([allow])]]) {
        await fx.setRoles('alice', roles)
        expect(await decide('READ', data('secret/x'))).toEqual({ allowed: false, reason: 'DenyRule' })
        expect(await decide('WRITE', data('secret/x'))).toEqual({ allowed: false, reason: 'DenyRule' })
        expect(await decide('WRITE', data('public/x'))).toEqual({ allowed: true })
      }
    })

    it('lets a DENY of one role win over an allow of a realm role', async () => {
      await fx.setRoles('alice', [realmRole([[`/${R}/**`, 'WRITE']]), role([[data('**'), 'DENY']])])
      expect(await decide('READ', data('k'))).toEqual({ allowed: false, reason: 'DenyRule' })
      expect(await decide('WRITE', `/${R}/admin/config`)).toEqual({ allowed: true })
    })

    it('matches * against exactly one segment, never across /', async () => {
      await fx.setRoles('alice', [role([[data('*'), 'READ']])])
      expect(await decide('READ', data('top'))).toEqual({ allowed: true })
      expect(await decide('READ', data('dir/nested'))).toEqual({ allowed: false, reason: 'NoGrant' })
      expect(await decide('READ', `${group()}/data/b1`)).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('matches * inside a segment within that segment only', async () => {
      await fx.setRoles('alice', [role([[data('*.csv'), 'READ']])])
      expect(await decide('READ', data('table.csv'))).toEqual({ allowed: true })
      expect(await decide('READ', data('table.json'))).toEqual({ allowed: false, reason: 'NoGrant' })
      expect(await decide('READ', data('dir/table.csv'))).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('matches ** against zero or more segments', async () => {
      await fx.setRoles('alice', [role([[`${group()}/data/b1/**`, 'READ']])])
      for (const path of [`${group()}/data/b1`, data('k'), data('a/b/c/d')]) {
        expect(await decide('READ', path)).toEqual({ allowed: true })
      }
      expect(await decide('READ', `${group()}/data/b2/k`)).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('denies folder markers and empty segments that a DENY wildcard covers', async () => {
      await fx.setRoles('alice', [
        role([
          [data('**'), 'READ'],
          [data('private/*'), 'DENY'],
        ]),
      ])
      expect(await decide('READ', data('private/'))).toEqual({ allowed: false, reason: 'DenyRule' })
      expect(await decide('READ', data('private/x'))).toEqual({ allowed: false, reason: 'DenyRule' })
      expect(await decide('READ', data('private//x'))).toEqual({ allowed: true })
    })

    it("never lets a group's role grant outside that group's subtree", async () => {
      const stored: Role = {
        name: 'tampered',
        scope: { realm: R, group: G },
        rules: [
          { pattern: data('**', 'b1', G2), permission: 'WRITE' },
          { pattern: `/${R}/**`, permission: 'WRITE' },
          { pattern: `/${R}/g/*/data/**`, permission: 'READ' },
        ],
      }
      await fx.setRoles('alice', [stored])
      for (const path of [data('k', 'b1', G2), `/${R}/admin/config`, data('k')]) {
        expect(await decide('READ', path)).toEqual({ allowed: false, reason: 'NoGrant' })
      }
    })

    it('applies a DENY that reaches outside its group inside the group, and only there', async () => {
      const stored: Role = {
        name: 'tampered',
        scope: { realm: R, group: G },
        rules: [{ pattern: `/${R}/g/*/data/**`, permission: 'DENY' }],
      }
      await fx.setRoles('alice', [stored, realmRole([[`/${R}/**`, 'READ']])])
      expect(await decide('READ', data('k'))).toEqual({ allowed: false, reason: 'DenyRule' })
      expect(await decide('READ', data('k', 'b1', G2))).toEqual({ allowed: true })
    })

    it('grants nothing in another realm', async () => {
      await fx.setRoles('alice', [realmRole([[`/${R}/**`, 'WRITE']])])
      expect(await decide('READ', `/realm2/g/${G}/data/b1/k`)).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('narrows what roles grant by the token restrictions', async () => {
      await fx.setRoles('alice', [role([[`${group()}/**`, 'WRITE']])])
      const restricted = {
        userId: 'alice',
        restrictions: [{ pattern: data('**'), permission: 'READ' as const }],
      }
      expect(await decide('READ', data('k'), restricted)).toEqual({ allowed: true })
      expect(await decide('WRITE', data('k'), restricted)).toEqual({ allowed: false, reason: 'Restricted' })
      expect(await decide('READ', `${group()}/meta/m1`, restricted)).toEqual({
        allowed: false,
        reason: 'Restricted',
      })
      expect(await decide('WRITE', `${group()}/meta/m1`)).toEqual({ allowed: true })
    })

    it('never widens what roles grant by the token restrictions', async () => {
      await fx.setRoles('alice', [role([[data('**'), 'READ']])])
      const wide = { userId: 'alice', restrictions: [{ pattern: '/**', permission: 'WRITE' as const }] }
      expect(await decide('WRITE', data('k'), wide)).toEqual({ allowed: false, reason: 'NoGrant' })
      expect(await decide('READ', `${group()}/meta/m1`, wide)).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('lets a DENY in the restrictions win, and allows nothing with empty restrictions', async () => {
      await fx.setRoles('alice', [role([[data('**'), 'WRITE']])])
      const restrictions = [
        { pattern: '/**', permission: 'WRITE' as const },
        { pattern: data('secret/**'), permission: 'DENY' as const },
      ]
      const principal = { userId: 'alice', restrictions }
      expect(await decide('READ', data('secret/k'), principal)).toEqual({
        allowed: false,
        reason: 'Restricted',
      })
      expect(await decide('WRITE', data('open/k'), principal)).toEqual({ allowed: true })
      const none = { userId: 'alice', restrictions: [] }
      expect(await decide('READ', data('open/k'), none)).toEqual({ allowed: false, reason: 'Restricted' })
    })

    it('applies role changes to the next call', async () => {
      await fx.setRoles('alice', [role([[data('**'), 'WRITE']])])
      expect(await decide('WRITE', data('k'))).toEqual({ allowed: true })
      await fx.setRoles('alice', [role([[data('**'), 'READ']])])
      expect(await decide('WRITE', data('k'))).toEqual({ allowed: false, reason: 'NoGrant' })
      await fx.setRoles('alice', [])
      expect(await decide('READ', data('k'))).toEqual({ allowed: false, reason: 'NoGrant' })
    })

    it('check resolves when allowed and throws AccessDenied when not', async () => {
      await fx.setRoles('alice', [role([[data('**'), 'READ']])])
      await expect(fx.authorizer.check(ALICE, 'READ', data('k'))).resolves.toBeUndefined()
      await expectCode(fx.authorizer.check(ALICE, 'WRITE', data('k')), 'AccessDenied')
    })

    it('refuses paths that are not resource paths with InvalidPath', async () => {
      await fx.setRoles('alice', [role([[`${group()}/**`, 'WRITE']])])
      for (const path of [
        '',
        'realm1/g/grp1/data/b1/k',
        data('../x'),
        data('./x'),
        data('a\u0000b'),
        data('\n'),
      ]) {
        await expectCode(fx.authorizer.authorize(ALICE, 'READ', path), 'InvalidPath')
        await expectCode(fx.authorizer.check(ALICE, 'READ', path), 'InvalidPath')
      }
    })
  })
}
