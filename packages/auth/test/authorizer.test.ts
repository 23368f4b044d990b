import { describe, expect, it } from 'vitest'
import type { Role, RoleSource } from '../src/index.js'
import {
  AuthError,
  defineRole,
  MemoryAuthorizer,
  MemoryRoleSource,
  PathAuthorizer,
  PathPatternCache,
} from '../src/index.js'
import { expectCode, runAuthorizerTests } from '../src/testing/index.js'

describe('MemoryAuthorizer', () => {
  runAuthorizerTests({
    async setup() {
      const authorizer = new MemoryAuthorizer()
      return {
        authorizer,
        async setRoles(userId, roles) {
          authorizer.setRoles(userId, roles)
        },
      }
    },
    async teardown() {},
  })

  it('grants and denies with one-line rules, scoped to the realm of the pattern', async () => {
    const authorizer = new MemoryAuthorizer()
      .allow('alice', 'WRITE', '/r1/g/x/data/b/**')
      .deny('alice', '/r1/g/x/data/b/secret/**')
    const alice = { userId: 'alice' }
    expect(await authorizer.authorize(alice, 'WRITE', '/r1/g/x/data/b/k')).toEqual({ allowed: true })
    expect(await authorizer.authorize(alice, 'READ', '/r1/g/x/data/b/secret/k')).toEqual({
      allowed: false,
      reason: 'DenyRule',
    })
    expect(authorizer.rolesFor('alice')).toHaveLength(2)
    expect(authorizer.rolesFor('alice')[0]?.scope).toEqual({ realm: 'r1' })
  })

  it('refuses a grant whose pattern is not inside one realm', () => {
    const authorizer = new MemoryAuthorizer()
    expect(() => authorizer.allow('alice', 'READ', '/**')).toThrow(AuthError)
    expect(() => authorizer.allow('alice', 'READ', '/*/g')).toThrow(/inside one realm/)
    expect(() => authorizer.deny('alice', '/r1/a**')).toThrow(
      expect.objectContaining({ code: 'InvalidPattern' }),
    )
  })

  it('records every call with its decision, and forgets them on reset', async () => {
    const authorizer = new MemoryAuthorizer().allow('alice', 'READ', '/r1/**')
    await authorizer.authorize({ userId: 'alice' }, 'READ', '/r1/admin')
    await expectCode(authorizer.check({ userId: 'bob' }, 'READ', '/r1/admin'), 'AccessDenied')
    await expectCode(authorizer.authorize({ userId: 'alice' }, 'READ', 'relative'), 'InvalidPath')
    expect(authorizer.calls).toEqual([
      { principal: { userId: 'alice' }, access: 'READ', path: '/r1/admin', decision: { allowed: true } },
      {
        principal: { userId: 'bob' },
        access: 'READ',
        path: '/r1/admin',
        decision: { allowed: false, reason: 'NoGrant' },
      },
      { principal: { userId: 'alice' }, access: 'READ', path: 'relative', decision: undefined },
    ])
    authorizer.reset()
    expect(authorizer.calls).toEqual([])
    expect(authorizer.rolesFor('alice')).toEqual([])
  })
})

describe('PathAuthorizer with a MemoryRoleSource', () => {
  runAuthorizerTests({
    async setup() {
      const roles = new MemoryRoleSource()
      return {
        authorizer: new PathAuthorizer({ roles }),
        async setRoles(userId, list) {
          roles.set(userId, list)
        },
      }
    },
    async teardown() {},
  })
})

describe('PathAuthorizer with an asynchronous RoleSource and a shared pattern cache', () => {
  const patterns = new PathPatternCache(8)
  runAuthorizerTests({
    async setup() {
      const table = new Map<string, readonly Role[]>()
      const roles: RoleSource = {
        rolesFor: async (userId) => {
          await new Promise((resolve) => setImmediate(resolve))
          return table.get(userId) ?? []
        },
      }
      return {
        authorizer: new PathAuthorizer({ roles, patterns }),
        async setRoles(userId, list) {
          table.set(userId, list)
        },
      }
    },
    async teardown() {},
  })

  it('keeps the cache within its capacity', () => {
    expect(patterns.size).toBeLessThanOrEqual(8)
  })
})

describe('PathAuthorizer', () => {
  it('does not ask the role source about a path it refuses', async () => {
    const asked: string[] = []
    const authorizer = new PathAuthorizer({
      roles: {
        rolesFor(userId) {
          asked.push(userId)
          return []
        },
      },
    })
    await expectCode(authorizer.authorize({ userId: 'alice' }, 'READ', '/r/../x'), 'InvalidPath')
    expect(asked).toEqual([])
  })

  it('adds roles one at a time with MemoryRoleSource.add', async () => {
    const roles = new MemoryRoleSource()
      .add(
        'alice',
        defineRole({
          name: 'reader',
          scope: { realm: 'r' },
          rules: [{ pattern: '/r/**', permission: 'READ' }],
        }),
      )
      .add(
        'alice',
        defineRole({
          name: 'deny',
          scope: { realm: 'r' },
          rules: [{ pattern: '/r/admin/**', permission: 'DENY' }],
        }),
      )
    const authorizer = new PathAuthorizer({ roles })
    await expect(authorizer.check({ userId: 'alice' }, 'READ', '/r/g/x')).resolves.toBeUndefined()
    const err = await expectCode(authorizer.check({ userId: 'alice' }, 'READ', '/r/admin/x'), 'AccessDenied')
    expect(err.message).toContain('DenyRule')
  })
})
