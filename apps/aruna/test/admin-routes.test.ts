import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { type OneNode, restCall, startOneNode } from './one-node.js'

/** A well-formed id that names nothing. */
const NOBODY = '01J00000000000000000000000'

describe('the administration REST routes (groups, members, roles, tokens, config) on one node', () => {
  let one: OneNode
  let dir: string
  let node: ArunaNode
  let realm: string
  let admin: string
  let alice: string
  let aliceId: string
  let bob: string
  let bobId: string

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    restCall(node, method, path, token, body)
  const expectProblem = (answer: Awaited<ReturnType<typeof call>>, status: number) => {
    expect(answer.status).toBe(status)
    expect(answer.type).toBe('application/problem+json')
    expect(answer.body).toMatchObject({ type: 'about:blank', status })
    return answer.body as { title: string; detail?: string }
  }

  beforeAll(async () => {
    one = await startOneNode('aruna-admin-')
    node = one.node
    dir = one.dir
    realm = node.realm?.realmId ?? ''
    admin = (await readOperatorFile(dir))?.token ?? ''
    const store = node.federation?.store
    if (!store) throw new Error('not running')
    const register = async (subject: string, displayName: string) =>
      (await store.registerUser({ issuer: 'https://idp.example', subject, displayName })).user.id
    aliceId = await register('alice', 'Alice')
    bobId = await register('bob', 'Bob')
    alice = await node.mintToken(aliceId)
    bob = await node.mintToken(bobId)
  }, 60_000)

  afterAll(async () => {
    await one?.stop()
  })

  it('asks for a realm token on every administration route', async () => {
    for (const [method, path] of [
      ['GET', '/v1/groups'],
      ['POST', '/v1/groups'],
      ['GET', '/v1/roles'],
      ['POST', '/v1/tokens/revoke'],
      ['GET', '/v1/config'],
    ] as const)
      expectProblem(await call(method, path), 401)
  })

  it('creates groups for administrators only, and refuses bad input as a problem document', async () => {
    const lab = await call('POST', '/v1/groups', admin, { name: 'lab-create' })
    expect(lab.status).toBe(201)
    expect(lab.body).toMatchObject({ name: 'lab-create', members: [] })
    expectProblem(await call('POST', '/v1/groups', alice, { name: 'mine' }), 403)
    expect(expectProblem(await call('POST', '/v1/groups', admin, { name: '' }), 400).detail).toMatch(
      /^name: /,
    )
    expectProblem(await call('POST', '/v1/groups', admin, { name: 'x', extra: true }), 400)
    expectProblem(await call('POST', '/v1/groups', admin, '{'), 400)
  })

  it('shows a group to its members and hides it from others exactly like a missing one', async () => {
    const lab = (await call('POST', '/v1/groups', admin, { name: 'lab-members' })).body
    const hidden = expectProblem(await call('GET', `/v1/groups/${lab.id}`, alice), 404)
    const missing = expectProblem(await call('GET', `/v1/groups/${NOBODY}`, alice), 404)
    expect(hidden.title).toBe(missing.title)
    expect(hidden.detail?.replace(lab.id, '?')).toBe(missing.detail?.replace(NOBODY, '?'))
    expect((await call('GET', '/v1/groups', alice)).body.groups).not.toContainEqual(
      expect.objectContaining({ id: lab.id }),
    )

    const added = await call('POST', `/v1/groups/${lab.id}/members`, admin, { user: aliceId })
    expect(added.status).toBe(200)
    expect(added.body.members).toEqual([aliceId])
    expect((await call('GET', `/v1/groups/${lab.id}`, alice)).body.name).toBe('lab-members')
    expect((await call('GET', '/v1/groups', alice)).body.groups).toContainEqual(
      expect.objectContaining({ id: lab.id, name: 'lab-members' }),
    )
    // The administrator reads any group; a missing one is a 404 for them too.
    expect((await call('GET', `/v1/groups/${lab.id}`, admin)).status).toBe(200)
    expectProblem(await call('GET', `/v1/groups/${NOBODY}`, admin), 404)
    expectProblem(await call('GET', '/v1/groups/not-a-ulid', admin), 400)

    // A member may not change the membership, whether or not the group exists.
    expectProblem(await call('POST', `/v1/groups/${lab.id}/members`, alice, { user: bobId }), 403)
    expectProblem(await call('POST', `/v1/groups/${NOBODY}/members`, alice, { user: bobId }), 403)
    expectProblem(await call('POST', `/v1/groups/${NOBODY}/members`, admin, { user: bobId }), 404)
    expectProblem(await call('POST', `/v1/groups/${lab.id}/members`, admin, { user: 'bob' }), 400)

    const removed = await call('DELETE', `/v1/groups/${lab.id}/members/${aliceId}`, admin)
    expect(removed.status).toBe(200)
    expect(removed.body.members).toEqual([])
    expectProblem(await call('GET', `/v1/groups/${lab.id}`, alice), 404)
  })

  it('lets a group role holder manage the group, a DENY rule beating the allow', async () => {
    const lab = (await call('POST', '/v1/groups', admin, { name: 'lab-roles' })).body
    const manager = await call('POST', '/v1/roles', admin, {
      name: 'lab-manager',
      group: lab.id,
      rules: [{ pattern: `/${realm}/g/${lab.id}/**`, permission: 'WRITE' }],
    })
    expect(manager.status).toBe(201)
    expect(manager.body).toMatchObject({ name: 'lab-manager', group: lab.id, members: [] })
    // A group role goes to members of its group only.
    expectProblem(await call('POST', `/v1/roles/${manager.body.id}/members`, admin, { user: aliceId }), 400)
    await call('POST', `/v1/groups/${lab.id}/members`, admin, { user: aliceId })
    expect(
      (await call('POST', `/v1/roles/${manager.body.id}/members`, admin, { user: aliceId })).status,
    ).toBe(200)

    // Allowed: the group role's WRITE covers the members and the roles of the group.
    expect((await call('POST', `/v1/groups/${lab.id}/members`, alice, { user: bobId })).status).toBe(200)
    expect((await call('GET', `/v1/groups/${lab.id}`, alice)).status).toBe(200)
    const roles = await call('GET', `/v1/roles?group=${lab.id}`, alice)
    expect(roles.status).toBe(200)
    expect(roles.body.roles.map((r: { name: string }) => r.name)).toEqual(['lab-manager'])
    // Denied: nothing outside the group, and no realm roles.
    expectProblem(await call('GET', '/v1/roles', alice), 403)
    expectProblem(
      await call('POST', '/v1/roles', alice, {
        name: 'realm-x',
        rules: [{ pattern: `/${realm}/**`, permission: 'READ' }],
      }),
      403,
    )
    // A group the caller may not read is as missing as one that does not exist.
    expectProblem(await call('GET', `/v1/roles?group=${NOBODY}`, alice), 404)

    // Deny wins: a second role denying the members path beats the WRITE on the whole group.
    const fence = await call('POST', '/v1/roles', admin, {
      name: 'lab-fence',
      group: lab.id,
      rules: [
        { pattern: `/${realm}/g/${lab.id}/admin/members`, permission: 'DENY' },
        { pattern: `/${realm}/g/${lab.id}/admin/roles`, permission: 'DENY' },
      ],
    })
    expect(fence.status).toBe(201)
    await call('POST', `/v1/roles/${fence.body.id}/members`, admin, { user: aliceId })
    expectProblem(await call('DELETE', `/v1/groups/${lab.id}/members/${bobId}`, alice), 403)
    // ...and for a read the denial is a 404, not a 403.
    expectProblem(await call('GET', `/v1/roles?group=${lab.id}`, alice), 404)

    // Taking the fence away restores the allow.
    const revoked = await call('DELETE', `/v1/roles/${fence.body.id}/members/${aliceId}`, admin)
    expect(revoked.status).toBe(200)
    expect(revoked.body.members).toEqual([])
    expect((await call('DELETE', `/v1/groups/${lab.id}/members/${bobId}`, alice)).status).toBe(200)
  })

  it('updates, deletes and lists roles for administrators, without telling others which roles exist', async () => {
    const made = await call('POST', '/v1/roles', admin, {
      name: 'auditor',
      rules: [{ pattern: `/${realm}/**`, permission: 'READ' }],
    })
    expect(made.status).toBe(201)
    expect(made.body.group).toBeNull()
    const listed = await call('GET', '/v1/roles', admin)
    expect(listed.body.roles.map((r: { name: string }) => r.name)).toEqual(
      expect.arrayContaining(['realm-admin', 'auditor']),
    )

    const renamed = await call('PATCH', `/v1/roles/${made.body.id}`, admin, { name: 'reader' })
    expect(renamed.status).toBe(200)
    expect(renamed.body.name).toBe('reader')
    expectProblem(await call('PATCH', `/v1/roles/${made.body.id}`, admin, {}), 400)
    expectProblem(
      await call('PATCH', `/v1/roles/${made.body.id}`, admin, {
        rules: [{ pattern: '/x', permission: 'ALL' }],
      }),
      400,
    )
    // Someone else's role and a missing one look the same to a caller who may not manage roles.
    expectProblem(await call('PATCH', `/v1/roles/${made.body.id}`, bob, { name: 'mine' }), 403)
    expectProblem(await call('PATCH', `/v1/roles/${NOBODY}`, bob, { name: 'mine' }), 403)
    expectProblem(await call('DELETE', `/v1/roles/${made.body.id}`, bob), 403)
    expectProblem(await call('POST', `/v1/roles/${made.body.id}/members`, bob, { user: bobId }), 403)
    expectProblem(await call('PATCH', `/v1/roles/${NOBODY}`, admin, { name: 'x' }), 404)

    expect((await call('DELETE', `/v1/roles/${made.body.id}`, admin)).status).toBe(204)
    expectProblem(await call('DELETE', `/v1/roles/${made.body.id}`, admin), 404)
    expectProblem(await call('DELETE', '/v1/roles/nope', admin), 400)
  })

  it('lists users for administrators and shows each user to themselves, others getting a 404', async () => {
    const users = await call('GET', '/v1/users', admin)
    expect(users.status).toBe(200)
    expect(users.body.users).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: aliceId, displayName: 'Alice' }),
        expect.objectContaining({ id: bobId, displayName: 'Bob' }),
      ]),
    )
    expect(users.body.users[0]).not.toHaveProperty('identities')
    expectProblem(await call('GET', '/v1/users', alice), 403)
    expect((await call('GET', `/v1/users/${aliceId}`, alice)).body).toMatchObject({ id: aliceId })
    expect((await call('GET', `/v1/users/${aliceId}`, admin)).status).toBe(200)
    const hidden = expectProblem(await call('GET', `/v1/users/${bobId}`, alice), 404)
    const missing = expectProblem(await call('GET', `/v1/users/${NOBODY}`, admin), 404)
    expect(hidden.detail?.replace(bobId, '?')).toBe(missing.detail?.replace(NOBODY, '?'))
    expectProblem(await call('GET', '/v1/users/nope', admin), 400)
  })

  it('revokes realm tokens for administrators: the revoked token stops working', async () => {
    const victim = await node.mintToken(bobId)
    const jti = (
      JSON.parse(Buffer.from(victim.split('.')[1] ?? '', 'base64url').toString()) as { jti: string }
    ).jti
    expect((await call('GET', '/v1/me', victim)).status).toBe(200)
    expectProblem(await call('POST', '/v1/tokens/revoke', bob, { jti }), 403)
    expectProblem(await call('POST', '/v1/tokens/revoke', admin, { jti: '' }), 400)
    expect((await call('POST', '/v1/tokens/revoke', admin, { jti })).status).toBe(204)
    expectProblem(await call('GET', '/v1/me', victim), 401)
    expect((await call('GET', '/v1/me', bob)).status).toBe(200)
  })

  it('shows the realm config to administrators only', async () => {
    const config = await call('GET', '/v1/config', admin)
    expect(config.status).toBe(200)
    expect(config.body.config.replication.default).toEqual({
      data: expect.anything(),
      metadata: expect.anything(),
    })
    expect(Array.isArray(config.body.warnings)).toBe(true)
    expectProblem(await call('GET', '/v1/config', alice), 403)
  })

  it('lets administrators set the default replication factors, with warnings above the node count', async () => {
    const set = await call('PATCH', '/v1/config', admin, { replication: { default: { data: 5 } } })
    expect(set.status).toBe(200)
    expect(set.body.config.replication.default.data).toBe(5)
    // One node: a factor of 5 cannot be met yet, and the answer says so.
    expect(set.body.warnings.map((w: { factor: number }) => w.factor)).toContain(5)
    expect((await call('GET', '/v1/config', admin)).body.config.replication.default.data).toBe(5)
    expectProblem(await call('PATCH', '/v1/config', admin, { replication: { default: { data: 0 } } }), 400)
    expectProblem(
      await call('PATCH', '/v1/config', admin, { replication: { default: { data: 3, size: 1 } } }),
      400,
    )
    expectProblem(await call('PATCH', '/v1/config', alice, { replication: { default: { data: 2 } } }), 403)
    const back = await call('PATCH', '/v1/config', admin, { replication: { default: { data: 3 } } })
    expect(back.body.config.replication.default.data).toBe(3)
    expect(back.body.warnings.map((w: { factor: number }) => w.factor)).not.toContain(5)
  })
})
