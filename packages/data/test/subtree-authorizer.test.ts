import { MemoryAuthorizer, type Role } from '@aruna/auth'
import { describe, expect, it } from 'vitest'
import { isSubtreeAuthorizer, RoleSubtreeAuthorizer } from '../src/s3/subtree-authorizer.js'

const G = '01JAAAAAAAAAAAAAAAAAAAAAAA'
const BUCKET = `/r/g/${G}/data/b`

function authorizerWith(setup: (m: MemoryAuthorizer) => void): RoleSubtreeAuthorizer {
  const memory = new MemoryAuthorizer()
  setup(memory)
  return new RoleSubtreeAuthorizer(memory, memory)
}

describe('RoleSubtreeAuthorizer', () => {
  it('answers all for a grant of the whole bucket, none under a DENY of a directory, some in between', async () => {
    const auth = authorizerWith((m) =>
      m
        .allow('alice', 'WRITE', `/r/g/${G}/**`)
        .allow('bob', 'READ', `${BUCKET}/**`)
        .deny('bob', `${BUCKET}/private/**`),
    )
    expect(isSubtreeAuthorizer(auth)).toBe(true)
    expect(isSubtreeAuthorizer(new MemoryAuthorizer())).toBe(false)
    const alice = { userId: 'alice' }
    const bob = { userId: 'bob' }
    expect(await auth.authorizeSubtree(alice, 'READ', BUCKET)).toBe('all')
    expect(await auth.authorizeSubtree(alice, 'WRITE', BUCKET)).toBe('all')
    expect(await auth.authorizeSubtree(bob, 'WRITE', BUCKET)).toBe('some')
    expect(await auth.authorizeSubtree(bob, 'READ', BUCKET)).toBe('some')
    expect(await auth.authorizeSubtree(bob, 'READ', `${BUCKET}/private`)).toBe('none')
    expect(await auth.authorizeSubtree(bob, 'READ', `${BUCKET}/private/x`)).toBe('none')
    expect(await auth.authorizeSubtree(bob, 'READ', `${BUCKET}/public`)).toBe('all')
    expect(await auth.authorizeSubtree(bob, 'READ', `${BUCKET}/privatex`)).toBe('all')
    expect(await auth.authorizeSubtree(bob, 'READ', `/r/g/${G}/data/other`)).toBe('some')
    expect(await auth.authorizeSubtree({ userId: 'nobody' }, 'READ', BUCKET)).toBe('some')
    // Restrictions: per path only.
    expect(await auth.authorizeSubtree({ userId: 'alice', restrictions: [] }, 'READ', BUCKET)).toBe('some')
    // Decisions per path are the inner authorizer's.
    expect(await auth.authorize(bob, 'READ', `${BUCKET}/private/x`)).toMatchObject({ allowed: false })
    await expect(auth.check(bob, 'READ', `${BUCKET}/a`)).resolves.toBeUndefined()
  })

  it('stays in doubt for wildcard and glob DENYs that may reach into the subtree', async () => {
    const auth = authorizerWith((m) =>
      m
        .allow('u', 'READ', `${BUCKET}/**`)
        .deny('u', `${BUCKET}/*/secret/**`)
        .deny('u', `${BUCKET}/logs/*.key`)
        .deny('u', `${BUCKET}/**/tmp`),
    )
    const u = { userId: 'u' }
    expect(await auth.authorizeSubtree(u, 'READ', BUCKET)).toBe('some')
    expect(await auth.authorizeSubtree(u, 'READ', `${BUCKET}/a`)).toBe('some')
    expect(await auth.authorizeSubtree(u, 'READ', `${BUCKET}/a/secret`)).toBe('none')
    expect(await auth.authorizeSubtree(u, 'READ', `${BUCKET}/logs`)).toBe('some')
    const v = { userId: 'v' }
    const globbed = authorizerWith((m) => m.allow('v', 'READ', `${BUCKET}/**`).deny('v', `${BUCKET}/d*/**`))
    expect(await globbed.authorizeSubtree(v, 'READ', `${BUCKET}/data`)).toBe('none')
    expect(await globbed.authorizeSubtree(v, 'READ', `${BUCKET}/x`)).toBe('all')
    const narrow = authorizerWith((m) => m.allow('w', 'READ', `${BUCKET}/a/*`))
    expect(await narrow.authorizeSubtree({ userId: 'w' }, 'READ', `${BUCKET}/a`)).toBe('some')
  })

  it('treats unreadable roles as denying their scope, and never grants from them', async () => {
    const memory = new MemoryAuthorizer()
    const scope = { realm: 'r', group: G }
    const roles: unknown[] = [
      { name: 'ok', scope, rules: [{ pattern: `/r/g/${G}/**`, permission: 'READ' }] },
      { name: 'odd', scope, rules: [{ pattern: 'not a pattern', permission: 'DENY' }] },
    ]
    const source = { rolesFor: () => roles as Role[] }
    const auth = new RoleSubtreeAuthorizer(memory, source)
    expect(await auth.authorizeSubtree({ userId: 'x' }, 'READ', BUCKET)).toBe('none')
    roles[1] = { name: 'bad', scope, rules: 'nope' }
    expect(await auth.authorizeSubtree({ userId: 'x' }, 'READ', BUCKET)).toBe('none')
    roles[1] = { name: 'bad', scope: { realm: 'r', group: 'bad group' }, rules: 'nope' }
    expect(await auth.authorizeSubtree({ userId: 'x' }, 'READ', BUCKET)).toBe('some')
    roles[1] = { name: 'bad', scope: null, rules: [{ pattern: 7, permission: 'DENY' }] }
    expect(await auth.authorizeSubtree({ userId: 'x' }, 'READ', BUCKET)).toBe('some')
    roles[1] = {
      name: 'other',
      scope: { realm: 'r', group: '01JBBBBBBBBBBBBBBBBBBBBBBB' },
      rules: [{ pattern: `/r/g/${G}/**`, permission: 'DENY' }],
    }
    // A DENY outside its scope only applies inside it: here, nowhere near the bucket.
    expect(await auth.authorizeSubtree({ userId: 'x' }, 'READ', BUCKET)).toBe('some')
    roles[1] = { name: 'bad', scope, rules: [{ pattern: `/r/g/${G}/**`, permission: 'ADMIN' }] }
    expect(await auth.authorizeSubtree({ userId: 'x' }, 'READ', BUCKET)).toBe('none')
    roles.length = 1
    roles.push({ name: 'outside', scope, rules: [{ pattern: '/r/**', permission: 'READ' }] }, null)
    expect(await auth.authorizeSubtree({ userId: 'x' }, 'READ', BUCKET)).toBe('all')
  })
})
