import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseRule } from '../src/cli/admin-commands.js'
import type { ArunaNode } from '../src/node.js'
import { aruna } from './cli-run.js'
import { type OneNode, startOneNode } from './one-node.js'

describe('aruna group, member, role and token commands against a running node', () => {
  let one: OneNode
  let dir: string
  let node: ArunaNode
  let realm: string
  let aliceId: string
  let alice: string
  /** As the operator: the node's data directory holds its credential. */
  let op: string[]

  beforeAll(async () => {
    one = await startOneNode('aruna-admin-cli-')
    node = one.node
    dir = one.dir
    realm = node.realm?.realmId ?? ''
    op = ['--data-dir', dir]
    const store = node.federation?.store
    if (!store) throw new Error('not running')
    aliceId = (
      await store.registerUser({ issuer: 'https://idp.example', subject: 'alice', displayName: 'Alice' })
    ).user.id
    alice = await node.mintToken(aliceId)
  }, 60_000)

  afterAll(async () => {
    await one?.stop()
  })

  it('creates a group, adds and removes a member, in words and as JSON', async () => {
    const made = await aruna(['group', 'create', 'lab', ...op, '--json'])
    expect(made.code).toBe(0)
    const group = JSON.parse(made.out) as { id: string; name: string }
    expect(group.name).toBe('lab')

    const added = await aruna(['member', 'add', group.id, aliceId, ...op])
    expect(added).toMatchObject({ code: 0, err: '' })
    expect(added.out).toBe(`added ${aliceId}: ${group.id}  lab  (1 member)\n`)

    const mine = await aruna(['group', 'list', '--url', node.restUrl ?? '', '--token', alice, '--json'])
    expect(mine.code).toBe(0)
    expect(JSON.parse(mine.out).groups).toEqual([
      expect.objectContaining({ id: group.id, members: [aliceId] }),
    ])
    const listed = await aruna(['group', 'list', '--url', node.restUrl ?? ''], { ARUNA_TOKEN: alice })
    expect(listed.out).toBe(`${group.id}  lab  (1 member)\n`)
    const shown = await aruna(['group', 'show', group.id, ...op])
    expect(shown.out).toBe(`${group.id}  lab  (1 member)\n  ${aliceId}\n`)

    const removed = await aruna(['member', 'remove', group.id, aliceId, ...op, '--json'])
    expect(removed.code).toBe(0)
    expect(JSON.parse(removed.out).members).toEqual([])
    expect((await aruna(['group', 'list', '--url', node.restUrl ?? '', '--token', alice])).out).toBe(
      'you are a member of no group\n',
    )
  })

  it('creates, lists, assigns, revokes and deletes roles', async () => {
    const group = JSON.parse((await aruna(['group', 'create', 'roles-lab', ...op, '--json'])).out) as {
      id: string
    }
    await aruna(['member', 'add', group.id, aliceId, ...op])
    const made = await aruna([
      'role',
      'create',
      'lab-writer',
      '--group',
      group.id,
      '--rule',
      `write:/${realm}/g/${group.id}/**`,
      '--rule',
      `DENY:/${realm}/g/${group.id}/admin/roles`,
      ...op,
      '--json',
    ])
    expect(made.code).toBe(0)
    const role = JSON.parse(made.out) as { id: string; rules: unknown[] }
    expect(role.rules).toEqual([
      { pattern: `/${realm}/g/${group.id}/**`, permission: 'WRITE' },
      { pattern: `/${realm}/g/${group.id}/admin/roles`, permission: 'DENY' },
    ])

    const listed = await aruna(['role', 'list', '--group', group.id, ...op])
    expect(listed.out).toBe(
      `${role.id}  lab-writer  (role of group ${group.id}, 0 holders)\n` +
        `      WRITE /${realm}/g/${group.id}/**\n` +
        `      DENY  /${realm}/g/${group.id}/admin/roles\n`,
    )
    const realmRoles = JSON.parse((await aruna(['role', 'list', ...op, '--json'])).out) as {
      roles: { name: string }[]
    }
    expect(realmRoles.roles.map((r) => r.name)).toContain('realm-admin')

    expect((await aruna(['role', 'assign', role.id, aliceId, ...op])).out).toBe(
      `gave role lab-writer to ${aliceId}\n`,
    )
    // Alice may now manage the group's members...
    expect(
      (await aruna(['member', 'remove', group.id, aliceId, '--url', node.restUrl ?? '', '--token', alice]))
        .code,
    ).toBe(0)
    await aruna(['member', 'add', group.id, aliceId, ...op])
    // ...but the DENY on the group's roles wins over her WRITE on the group.
    const denied = await aruna([
      'role',
      'list',
      '--group',
      group.id,
      '--url',
      node.restUrl ?? '',
      '--token',
      alice,
    ])
    expect(denied.code).toBe(1)
    expect(denied.err).toBe(`aruna: no group ${group.id}\n`)

    expect((await aruna(['role', 'revoke', role.id, aliceId, ...op])).out).toBe(
      `took role lab-writer from ${aliceId}\n`,
    )
    const renamed = await aruna(['role', 'update', role.id, '--name', 'lab-editor', ...op, '--json'])
    expect(renamed.code).toBe(0)
    expect(JSON.parse(renamed.out)).toMatchObject({ name: 'lab-editor', rules: role.rules })
    const narrowed = await aruna([
      'role',
      'update',
      role.id,
      '--rule',
      `READ:/${realm}/g/${group.id}/**`,
      ...op,
    ])
    expect(narrowed.out).toBe(
      `updated ${role.id}  lab-editor  (role of group ${group.id}, 0 holders)\n      READ  /${realm}/g/${group.id}/**\n`,
    )
    expect((await aruna(['role', 'update', role.id, ...op])).code).toBe(2)
    expect((await aruna(['role', 'delete', role.id, ...op])).out).toBe(`deleted role ${role.id}\n`)
  })

  it('lists users for administrators and shows a user, yourself by default', async () => {
    const listed = await aruna(['user', 'list', ...op])
    expect(listed.code).toBe(0)
    expect(listed.out).toContain(`${aliceId}  Alice\n`)
    const me = await aruna(['user', 'show', '--url', node.restUrl ?? '', '--token', alice])
    expect(me.out).toBe(`${aliceId}  Alice\n`)
    const shown = await aruna(['user', 'show', aliceId, ...op, '--json'])
    expect(JSON.parse(shown.out)).toMatchObject({ id: aliceId, displayName: 'Alice' })
    const refused = await aruna(['user', 'list', '--url', node.restUrl ?? '', '--token', alice])
    expect(refused).toMatchObject({ code: 1, out: '' })
    expect(refused.err).toMatch(/^aruna: listUsers: READ on \S+ refused\n$/)
  })

  it('reports refusals and bad input as one line, with exit code 1 or 2', async () => {
    const refused = await aruna(['group', 'create', 'nope', '--url', node.restUrl ?? '', '--token', alice])
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/^aruna: createGroup: WRITE on \S+ refused\n$/)

    const badId = await aruna(['member', 'add', 'not-a-group', aliceId, ...op])
    expect(badId).toMatchObject({ code: 1, out: '' })
    expect(badId.err).toBe('aruna: id: not a group id\n')

    const badRule = await aruna(['role', 'create', 'x', '--rule', 'ALL:/x', ...op])
    expect(badRule.code).toBe(2)
    expect(badRule.err).toContain('is not a rule such as READ:/<realm>/g/<group>/**')

    const revoke = await aruna(['token', 'revoke', 'some-jti', '--url', node.restUrl ?? '', '--token', alice])
    expect(revoke.code).toBe(1)
    expect(revoke.err.split('\n')).toHaveLength(2)
    expect((await aruna(['token', 'revoke', 'some-jti', ...op, '--json'])).out).toBe(
      `${JSON.stringify({ revoked: 'some-jti' }, null, 2)}\n`,
    )

    const anonymous = await aruna(['group', 'list', '--url', node.restUrl ?? ''], { HOME: dir })
    expect(anonymous.code).toBe(1)
    expect(anonymous.err).toContain('aruna login')
  })

  it('parses rules as PERMISSION:pattern', () => {
    expect(parseRule('read:/r/g/x/**')).toEqual({ permission: 'READ', pattern: '/r/g/x/**' })
    expect(() => parseRule('/r/**')).toThrow(/not a rule/)
    expect(() => parseRule('WRITE:r/**')).toThrow(/not a rule/)
  })
})
