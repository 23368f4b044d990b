import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArunaNode } from '../src/node.js'
import { decodeInvite } from '../src/realm/invite.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { type OneNode, restCall, startOneNode } from './one-node.js'

describe('the realm REST routes on one node', () => {
  let one: OneNode
  let dir: string
  let node: ArunaNode
  let admin: string
  let user: string
  let userId: string

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    restCall(node, method, path, token, body)

  beforeAll(async () => {
    one = await startOneNode('aruna-routes-')
    node = one.node
    dir = one.dir
    admin = (await readOperatorFile(dir))?.token ?? ''
    const store = node.federation?.store
    if (!store) throw new Error('not running')
    const registered = await store.registerUser({
      issuer: 'https://idp.example',
      subject: 'u1',
      displayName: 'User One',
    })
    userId = registered.user.id
    user = await node.mintToken(userId)
  }, 60_000)

  afterAll(async () => {
    await one?.stop()
  })

  it('asks callers without a valid realm token to log in, as a problem document', async () => {
    const none = await call('GET', '/v1/me')
    expect(none.status).toBe(401)
    expect(none.type).toBe('application/problem+json')
    expect(none.body.detail).toContain('aruna login')
    expect((await call('GET', '/v1/me', 'not-a-token')).status).toBe(401)
    expect((await call('GET', '/v1/nope', admin)).status).toBe(404)
  })

  it('tells the administrator who they are, with the realm role and the default group', async () => {
    const me = await call('GET', '/v1/me', admin)
    expect(me.status).toBe(200)
    expect(me.body.roles.map((r: { name: string }) => r.name)).toEqual(['realm-admin'])
    expect(me.body.groups.map((g: { name: string }) => g.name)).toEqual(['default'])
    expect(me.body.realm).toBe(node.realm?.realmId)
  })

  it('makes invites for those who may manage nodes, carrying this node and the caller', async () => {
    const made = await call('POST', '/v1/invites', admin, { ttlSeconds: 600 })
    expect(made.status).toBe(201)
    const invite = decodeInvite(made.body.invite)
    expect(invite.operator).toBe(node.realm?.operator)
    expect(invite.bootstrap.every((a) => a.endsWith(`/p2p/${node.nodeId}`))).toBe(true)
    expect((await call('POST', '/v1/invites', admin, { ttlSeconds: 5 })).status).toBe(400)
    expect((await call('POST', '/v1/invites', admin, { ttlSeconds: 600, extra: 1 })).status).toBe(400)
    expect((await call('POST', '/v1/invites', admin, '{not json')).status).toBe(400)
    expect((await call('POST', '/v1/invites', user, {})).status).toBe(403)
  })

  it('lists nodes for administrators only and refuses bad or self removals', async () => {
    const nodes = await call('GET', '/v1/nodes', admin)
    expect(nodes.body.nodes).toEqual([
      expect.objectContaining({ id: node.nodeId, kind: 'management', live: true }),
    ])
    expect((await call('GET', '/v1/nodes', user)).status).toBe(403)
    expect((await call('DELETE', '/v1/nodes/not-a-peer', admin)).status).toBe(400)
    expect((await call('DELETE', `/v1/nodes/${node.nodeId}`, admin)).status).toBe(409)
    expect(
      (await call('DELETE', '/v1/nodes/12D3KooWRwh8TFV84mzn25uoqG849xVPaNfK4QZUct4iP5yjdTkd', user)).status,
    ).toBe(403)
    expect(
      (await call('DELETE', '/v1/nodes/12D3KooWRwh8TFV84mzn25uoqG849xVPaNfK4QZUct4iP5yjdTkd', admin)).status,
    ).toBe(404)
  })

  it('lets users manage their own access keys and administrators anyone’s, hiding others’ keys', async () => {
    const own = await call('POST', '/v1/keys', user, { description: 'laptop' })
    expect(own.status).toBe(201)
    expect(own.body.userId).toBe(userId)
    const adminKey = await call('POST', '/v1/keys', admin, {})
    expect(
      (await call('GET', '/v1/keys', user)).body.keys.map((k: { accessKeyId: string }) => k.accessKeyId),
    ).toEqual([own.body.accessKeyId])
    expect((await call('GET', `/v1/keys?user=${userId}`, admin)).body.keys).toHaveLength(1)
    expect((await call('GET', `/v1/keys?user=${node.realm?.operator}`, user)).status).toBe(403)
    expect((await call('POST', '/v1/keys', user, { user: node.realm?.operator })).status).toBe(403)
    expect((await call('GET', '/v1/keys?user=01J00000000000000000000000', admin)).status).toBe(404)
    // Someone else's key is as missing as an unknown one.
    expect((await call('DELETE', `/v1/keys/${adminKey.body.accessKeyId}`, user)).status).toBe(404)
    expect((await call('DELETE', '/v1/keys/AKAAAAAAAAAAAAAAAAAA', admin)).status).toBe(404)
    expect((await call('DELETE', '/v1/keys/nope', admin)).status).toBe(400)
    expect((await call('DELETE', `/v1/keys/${own.body.accessKeyId}`, admin)).status).toBe(204)
    expect((await call('GET', '/v1/keys', user)).body.keys).toEqual([])
    expect((await call('DELETE', `/v1/keys/${adminKey.body.accessKeyId}`, admin)).status).toBe(204)
  })
})
