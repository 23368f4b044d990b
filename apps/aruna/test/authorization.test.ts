import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { minimalCrate } from './crates.js'
import { type OneNode, restCall, startOneNode } from './one-node.js'

/** A node id that is not in the realm. */
const FOREIGN_NODE = '12D3KooWRwh8TFV84mzn25uoqG849xVPaNfK4QZUct4iP5yjdTkd'

/**
 * One operator-like user ("ops", WRITE on the whole realm by a realm role) against every protected route:
 * first allowed, then with a second role whose DENY rules fence off each resource path. Deny wins over
 * the allow on every route; a fenced read of something that may exist is a 404, not a 403.
 */
describe('authorization on every protected route: allowed, then a DENY rule wins', () => {
  let one: OneNode
  let dir: string
  let node: ArunaNode
  let realm: string
  let admin: string
  let ops: string
  let opsId: string
  let bobId: string
  let group: string

  const call = (method: string, path: string, token: string, body?: unknown) =>
    restCall(node, method, path, token, body)

  beforeAll(async () => {
    one = await startOneNode('aruna-authz-')
    node = one.node
    dir = one.dir
    realm = node.realm?.realmId ?? ''
    admin = (await readOperatorFile(dir))?.token ?? ''
    const store = node.federation?.store
    if (!store) throw new Error('not running')
    const register = async (subject: string) =>
      (await store.registerUser({ issuer: 'https://idp.example', subject, displayName: subject })).user.id
    opsId = await register('ops')
    bobId = await register('bob')
    ops = await node.mintToken(opsId)
    group = (await call('POST', '/v1/groups', admin, { name: 'fenced' })).body.id
    const allow = await call('POST', '/v1/roles', admin, {
      name: 'ops',
      rules: [{ pattern: `/${realm}/**`, permission: 'WRITE' }],
    })
    expect((await call('POST', `/v1/roles/${allow.body.id}/members`, admin, { user: opsId })).status).toBe(
      200,
    )
  }, 60_000)

  afterAll(async () => {
    await one?.stop()
  })

  /** Each route as ops: [name, the request, the status while allowed, the status once fenced]. */
  const routes = (): [string, () => Promise<{ status: number }>, number, number][] => [
    ['make an invite', () => call('POST', '/v1/invites', ops, {}), 201, 403],
    ['list nodes', () => call('GET', '/v1/nodes', ops), 200, 403],
    ['remove a node', () => call('DELETE', `/v1/nodes/${FOREIGN_NODE}`, ops), 404, 403],
    ["list another user's keys", () => call('GET', `/v1/keys?user=${bobId}`, ops), 200, 403],
    ['make a key for another user', () => call('POST', '/v1/keys', ops, { user: bobId }), 201, 403],
    ['list users', () => call('GET', '/v1/users', ops), 200, 403],
    ['show another user', () => call('GET', `/v1/users/${bobId}`, ops), 200, 404],
    ['read the realm config', () => call('GET', '/v1/config', ops), 200, 403],
    ['read a group’s storage usage', () => call('GET', `/v1/usage?group=${group}`, ops), 200, 404],
    [
      'set the replication factors',
      () => call('PATCH', '/v1/config', ops, { replication: { default: { metadata: 'all' } } }),
      200,
      403,
    ],
    ['revoke a token', () => call('POST', '/v1/tokens/revoke', ops, { jti: 'x' }), 204, 403],
    ['create a group', () => call('POST', '/v1/groups', ops, { name: 'more' }), 201, 403],
    ['show a group one is not in', () => call('GET', `/v1/groups/${group}`, ops), 200, 404],
    ['add a member', () => call('POST', `/v1/groups/${group}/members`, ops, { user: bobId }), 200, 403],
    ['remove a member', () => call('DELETE', `/v1/groups/${group}/members/${bobId}`, ops), 200, 403],
    ["list a group's roles", () => call('GET', `/v1/roles?group=${group}`, ops), 200, 404],
    ['list realm roles', () => call('GET', '/v1/roles', ops), 200, 403],
    [
      'create a bucket',
      () => call('POST', '/v1/buckets', ops, { name: `b-${Math.random().toString(36).slice(2, 10)}`, group }),
      201,
      403,
    ],
    ['create a resource', () => call('POST', '/v1/resources', ops, { group, name: 'r' }), 201, 403],
    [
      'import a resource',
      () => call('POST', `/v1/resources/import?group=${group}`, ops, minimalCrate('imported')),
      201,
      403,
    ],
    [
      'create a realm role',
      () =>
        call('POST', '/v1/roles', ops, {
          name: `r-${Math.random()}`,
          rules: [{ pattern: `/${realm}/x/**`, permission: 'READ' }],
        }),
      201,
      403,
    ],
  ]

  it('allows each operation to a realm-wide WRITE, and refuses it once a DENY rule matches', async () => {
    for (const [name, request, allowed] of routes()) expect((await request()).status, name).toBe(allowed)

    // Another user's key: deletable while allowed, as missing as an unknown key once fenced.
    const bobKeys = [
      (await call('POST', '/v1/keys', admin, { user: bobId })).body.accessKeyId,
      (await call('POST', '/v1/keys', admin, { user: bobId })).body.accessKeyId,
    ]
    expect((await call('DELETE', `/v1/keys/${bobKeys[0]}`, ops)).status).toBe(204)

    const fence = await call('POST', '/v1/roles', admin, {
      name: 'fence',
      rules: [
        ...['nodes', 'keys', 'users', 'config', 'tokens', 'groups', 'roles'].map((area) => ({
          pattern: `/${realm}/admin/${area}`,
          permission: 'DENY',
        })),
        { pattern: `/${realm}/g/**`, permission: 'DENY' },
      ],
    })
    expect(fence.status).toBe(201)
    expect((await call('POST', `/v1/roles/${fence.body.id}/members`, admin, { user: opsId })).status).toBe(
      200,
    )

    for (const [name, request, , fenced] of routes()) expect((await request()).status, name).toBe(fenced)
    expect((await call('DELETE', `/v1/keys/${bobKeys[1]}`, ops)).status).toBe(404)
    // What stays the caller's own is not fenced: who they are, their own keys.
    expect((await call('GET', '/v1/me', ops)).status).toBe(200)
    expect((await call('GET', `/v1/users/${opsId}`, ops)).status).toBe(200)
    expect((await call('POST', '/v1/keys', ops, {})).status).toBe(201)
  })
})
