import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Access,
  AuthError,
  type Authorizer,
  createRealmKey,
  MemoryAuthorizer,
  PathAuthorizer,
  type Principal,
  verifyDelegation,
} from '@aruna/auth'
import { createPeerKey, peerIdOf } from '@aruna/network'
import { afterEach, describe, expect, it } from 'vitest'
import {
  initRealm,
  loadRealmKey,
  MemoryOrgaStore,
  NoRealmKeyError,
  nodeKeyIdOfPeer,
  OrgaService,
  orgaRoleSource,
  REALM_KEY_FILE,
  type RoleRecord,
} from '../src/index.js'
import { holdingFirstAnswer } from '../src/testing/index.js'

const ISSUER = 'https://login.example.org'
const admin: Principal = { userId: 'admin' }
const mallory: Principal = { userId: 'mallory' }

function code(c: string) {
  return expect.objectContaining({ name: 'OrgaError', code: c })
}

function setup(options: { realmKey?: boolean; now?: () => number } = {}) {
  const realm = createRealmKey()
  const clock = options.now ?? Date.now
  const store = new MemoryOrgaStore({ realmId: realm.realm, now: clock })
  const authorizer = new MemoryAuthorizer()
  const service = new OrgaService({
    store,
    authorizer,
    realmId: realm.realm,
    clock,
    ...(options.realmKey === false ? {} : { realmKey: realm.privateKey }),
  })
  const r = realm.realm
  const user = async (subject: string) =>
    (await store.registerUser({ issuer: ISSUER, subject, displayName: subject })).user
  return { realm, r, store, authorizer, service, user }
}

async function peer(): Promise<string> {
  return peerIdOf(await createPeerKey())
}

type Ctx = ReturnType<typeof setup>
interface Case {
  readonly op: string
  readonly access: Access
  readonly path: (ctx: Ctx, prep: Record<string, string>) => string
  readonly prep?: (ctx: Ctx) => Promise<Record<string, string>>
  readonly run: (ctx: Ctx, caller: Principal, prep: Record<string, string>) => Promise<unknown>
  readonly after?: (ctx: Ctx, prep: Record<string, string>) => Promise<void>
}

const groupWithUser = async ({ store, user }: Ctx) => {
  const group = await store.createGroup({ name: 'Lab' })
  const bob = await user('bob')
  return { group: group.id, bob: bob.id }
}
const groupRole = async (ctx: Ctx) => {
  const prep = await groupWithUser(ctx)
  await ctx.store.addMember(prep.group, prep.bob)
  const role = await ctx.store.createRole({
    name: 'readers',
    group: prep.group,
    rules: [{ pattern: `/${ctx.r}/g/${prep.group}/**`, permission: 'READ' }],
  })
  return { ...prep, role: role.id }
}
const realmRole = async (ctx: Ctx) => {
  const bob = await ctx.user('bob')
  const role = await ctx.store.createRole({
    name: 'auditors',
    rules: [{ pattern: `/${ctx.r}/**`, permission: 'READ' }],
  })
  return { bob: bob.id, role: role.id }
}

const cases: Case[] = [
  {
    op: 'createGroup',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/groups`,
    run: ({ service }, caller) => service.createGroup(caller, { name: 'Genomics' }),
    after: async ({ store }) => expect((await store.listGroups()).map((g) => g.name)).toEqual(['Genomics']),
  },
  {
    op: 'addMember',
    access: 'WRITE',
    path: ({ r }, p) => `/${r}/g/${p.group}/admin/members`,
    prep: groupWithUser,
    run: ({ service }, caller, p) => service.addMember(caller, p.group as string, p.bob as string),
    after: async ({ store }, p) => expect((await store.getGroup(p.group as string)).members).toEqual([p.bob]),
  },
  {
    op: 'removeMember',
    access: 'WRITE',
    path: ({ r }, p) => `/${r}/g/${p.group}/admin/members`,
    prep: async (ctx) => {
      const p = await groupWithUser(ctx)
      await ctx.store.addMember(p.group, p.bob)
      return p
    },
    run: ({ service }, caller, p) => service.removeMember(caller, p.group as string, p.bob as string),
    after: async ({ store }, p) => expect((await store.getGroup(p.group as string)).members).toEqual([]),
  },
  {
    op: 'createRole',
    access: 'WRITE',
    path: ({ r }, p) => `/${r}/g/${p.group}/admin/roles`,
    prep: groupWithUser,
    run: ({ service, r }, caller, p) =>
      service.createRole(caller, {
        name: 'writers',
        group: p.group as string,
        rules: [{ pattern: `/${r}/g/${p.group}/data/**`, permission: 'WRITE' }],
      }),
    after: async ({ store }, p) =>
      expect(await store.listRoles({ group: p.group as string })).toHaveLength(1),
  },
  {
    op: 'createRole',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/roles`,
    run: ({ service, r }, caller) =>
      service.createRole(caller, {
        name: 'ops',
        rules: [{ pattern: `/${r}/admin/**`, permission: 'WRITE' }],
      }),
    after: async ({ store }) => expect(await store.listRoles()).toHaveLength(1),
  },
  {
    op: 'updateRole',
    access: 'WRITE',
    path: ({ r }, p) => `/${r}/g/${p.group}/admin/roles`,
    prep: groupRole,
    run: ({ service }, caller, p) => service.updateRole(caller, p.role as string, { name: 'viewers' }),
    after: async ({ store }, p) => expect((await store.getRole(p.role as string)).name).toBe('viewers'),
  },
  {
    op: 'updateRole',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/roles`,
    prep: realmRole,
    run: ({ service, r }, caller, p) =>
      service.updateRole(caller, p.role as string, {
        rules: [{ pattern: `/${r}/admin/**`, permission: 'READ' }],
      }),
    after: async ({ store, r }, p) =>
      expect((await store.getRole(p.role as string)).rules).toEqual([
        { pattern: `/${r}/admin/**`, permission: 'READ' },
      ]),
  },
  {
    op: 'deleteRole',
    access: 'WRITE',
    path: ({ r }, p) => `/${r}/g/${p.group}/admin/roles`,
    prep: groupRole,
    run: ({ service }, caller, p) => service.deleteRole(caller, p.role as string),
    after: async ({ store }, p) => expect(await store.listRoles({ group: p.group as string })).toEqual([]),
  },
  {
    op: 'assignRole',
    access: 'WRITE',
    path: ({ r }, p) => `/${r}/g/${p.group}/admin/roles`,
    prep: groupRole,
    run: ({ service }, caller, p) => service.assignRole(caller, p.role as string, p.bob as string),
    after: async ({ store }, p) => expect((await store.getRole(p.role as string)).members).toEqual([p.bob]),
  },
  {
    op: 'assignRole',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/roles`,
    prep: realmRole,
    run: ({ service }, caller, p) => service.assignRole(caller, p.role as string, p.bob as string),
    after: async ({ store }, p) =>
      expect((await store.rolesForUser(p.bob as string)).map((x) => x.id)).toEqual([p.role]),
  },
  {
    op: 'revokeRole',
    access: 'WRITE',
    path: ({ r }, p) => `/${r}/g/${p.group}/admin/roles`,
    prep: async (ctx) => {
      const p = await groupRole(ctx)
      await ctx.store.assignRole(p.role, p.bob)
      return p
    },
    run: ({ service }, caller, p) => service.revokeRole(caller, p.role as string, p.bob as string),
    after: async ({ store }, p) => expect((await store.getRole(p.role as string)).members).toEqual([]),
  },
  {
    op: 'createInvite',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/nodes`,
    run: ({ service }, caller) => service.createInvite(caller, { ttlMs: 60_000 }),
    after: async ({ store }) => expect(await store.listInvites()).toHaveLength(1),
  },
  {
    op: 'removeNode',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/nodes`,
    prep: async ({ store }) => {
      const peerId = await peer()
      await store.addNode({ peerId, kind: 'server', delegation: 'd', addresses: [] })
      return { peerId }
    },
    run: ({ service }, caller, p) => service.removeNode(caller, p.peerId as string),
    after: async ({ store }, p) => expect(await store.isMember(p.peerId as string)).toBe(false),
  },
  {
    op: 'listNodes',
    access: 'READ',
    path: ({ r }) => `/${r}/admin/nodes`,
    run: ({ service }, caller) => service.listNodes(caller),
  },
  {
    op: 'revokeToken',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/tokens`,
    run: ({ service }, caller) => service.revokeToken(caller, 'jti-1'),
    after: async ({ store }) => expect(await store.isRevoked('jti-1')).toBe(true),
  },
  {
    op: 'getConfig',
    access: 'READ',
    path: ({ r }) => `/${r}/admin/config`,
    run: ({ service }, caller) => service.getConfig(caller),
  },
  {
    op: 'setReplication',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/config`,
    run: ({ service }, caller) => service.setReplication(caller, { scope: 'realm' }, { data: 2 }),
    after: async ({ store }) => expect((await store.getRealm()).config.replication.default.data).toBe(2),
  },
  {
    op: 'setQuota',
    access: 'WRITE',
    path: ({ r }) => `/${r}/admin/config`,
    run: ({ service }, caller) => service.setQuota(caller, { defaultGroup: { bytes: 1024 } }),
    after: async ({ store }) =>
      expect((await store.getRealm()).config.quota.defaultGroup).toEqual({ bytes: 1024 }),
  },
]

describe('OrgaService: every operation checks one access on one path', () => {
  for (const c of cases) {
    it(`${c.op} (${c.access} ${c.path({ r: '{realm}' } as Ctx, { group: '{group}' })}) is allowed with the grant`, async () => {
      const ctx = setup()
      const prep = (await c.prep?.(ctx)) ?? {}
      const path = c.path(ctx, prep)
      ctx.authorizer.allow(admin.userId, c.access, path)
      await c.run(ctx, admin, prep)
      expect(ctx.authorizer.calls.at(-1)).toMatchObject({
        access: c.access,
        path,
        decision: { allowed: true },
      })
      await c.after?.(ctx, prep)
    })

    it(`${c.op} is refused without it, naming the operation, and changes nothing`, async () => {
      const ctx = setup()
      const prep = (await c.prep?.(ctx)) ?? {}
      const path = c.path(ctx, prep)
      // a grant on a neighbouring path, and READ where WRITE is needed, do not help
      if (c.access === 'WRITE') ctx.authorizer.allow(mallory.userId, 'READ', path)
      ctx.authorizer.allow(mallory.userId, 'WRITE', `/${ctx.r}/g/01ARZ3NDEKTSV4RRFFQ69G5FAV/**`)
      const changes: unknown[] = []
      ctx.store.onChange((change) => changes.push(change))
      const err = await c.run(ctx, mallory, prep).catch((e: unknown) => e)
      expect(err).toEqual(code('PermissionDenied'))
      expect((err as Error).message).toContain(`${c.op}:`)
      expect((err as Error).cause).toBeInstanceOf(AuthError)
      expect(ctx.authorizer.calls.at(-1)).toMatchObject({ access: c.access, path })
      expect(changes).toEqual([])
    })
  }
})

describe('OrgaService: input is checked at the boundary', () => {
  it('refuses malformed ids and inputs before asking the authorizer', async () => {
    const { service, authorizer } = setup()
    await expect(service.addMember(admin, 'not-a-ulid', '01ARZ3NDEKTSV4RRFFQ69G5FAV')).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.removeMember(admin, '01ARZ3NDEKTSV4RRFFQ69G5FAV', 'bob')).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.createGroup(admin, { name: '   ' })).rejects.toEqual(code('InvalidInput'))
    await expect(service.createGroup(admin, null as never)).rejects.toEqual(code('InvalidInput'))
    await expect(service.createRole(admin, { name: 'x', rules: 'all' as never })).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.createRole(admin, { name: 'x', rules: [null as never] })).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(
      service.createRole(admin, { name: 'x', rules: [{ pattern: '/a/**', permission: 'ADMIN' as never }] }),
    ).rejects.toEqual(code('InvalidInput'))
    await expect(service.createRole(admin, { name: 'x', group: 'lab', rules: [] })).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.updateRole(admin, '01ARZ3NDEKTSV4RRFFQ69G5FAV', {})).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.updateRole(admin, '01ARZ3NDEKTSV4RRFFQ69G5FAV', null as never)).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.createInvite(admin, { ttlMs: 0 })).rejects.toEqual(code('InvalidInput'))
    await expect(service.removeNode(admin, 'not a peer!')).rejects.toEqual(code('InvalidInput'))
    await expect(service.revokeToken(admin, '')).rejects.toEqual(code('InvalidInput'))
    await expect(service.setReplication(admin, null as never, { data: 1 })).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.setReplication(admin, { scope: 'realm' }, null as never)).rejects.toEqual(
      code('InvalidInput'),
    )
    await expect(service.setQuota(admin, null as never)).rejects.toEqual(code('InvalidInput'))
    await expect(service.setQuota(admin, { warnPercent: 0 })).rejects.toEqual(code('InvalidInput'))
    await expect(service.setQuota(admin, { groups: { lab: { bytes: 1 } } })).rejects.toEqual(
      code('InvalidInput'),
    )
    expect(authorizer.calls).toEqual([])
  })

  it('refuses a caller that is not a principal', async () => {
    const { service } = setup()
    await expect(service.listNodes(null as never)).rejects.toEqual(code('InvalidInput'))
    await expect(service.listNodes({ userId: 7 } as never)).rejects.toEqual(code('InvalidInput'))
  })

  it('says which user, group or role is unknown (to an allowed caller)', async () => {
    const { service, authorizer, store, r, user } = setup()
    authorizer.allow(admin.userId, 'WRITE', `/${r}/**`)
    const ghost = '01ARZ3NDEKTSV4RRFFQ69G5FAV'
    const group = await store.createGroup({ name: 'Lab' })
    await expect(service.addMember(admin, group.id, ghost)).rejects.toEqual(code('NotFound'))
    const bob = await user('bob')
    await expect(service.addMember(admin, ghost, bob.id)).rejects.toEqual(code('NotFound'))
    await expect(service.createRole(admin, { name: 'x', group: ghost, rules: [] })).rejects.toEqual(
      code('NotFound'),
    )
    await expect(service.assignRole(admin, ghost, bob.id)).rejects.toEqual(code('NotFound'))
    await expect(service.deleteRole(admin, ghost)).rejects.toEqual(code('NotFound'))
    await expect(service.removeNode(admin, await peer())).rejects.toEqual(code('NotFound'))
    const role = await service.createRole(admin, { name: 'r', group: group.id, rules: [] })
    await expect(service.assignRole(admin, role.id, ghost)).rejects.toEqual(code('NotFound'))
    // a group role for a non-member
    await expect(service.assignRole(admin, role.id, bob.id)).rejects.toEqual(code('NotMember'))
  })

  it('does not tell a refused caller whether a role exists', async () => {
    const { service } = setup()
    await expect(service.deleteRole(mallory, '01ARZ3NDEKTSV4RRFFQ69G5FAV')).rejects.toEqual(
      code('PermissionDenied'),
    )
  })

  it('refuses malformed patterns and patterns outside the role scope', async () => {
    const { service, authorizer, store, r } = setup()
    authorizer.allow(admin.userId, 'WRITE', `/${r}/**`)
    const group = await store.createGroup({ name: 'Lab' })
    const other = await store.createGroup({ name: 'Other' })
    const create = (pattern: string, g: string | null = group.id) =>
      service.createRole(admin, {
        name: 'x',
        ...(g === null ? {} : { group: g }),
        rules: [{ pattern, permission: 'READ' }],
      })
    await expect(create('no-slash')).rejects.toEqual(code('InvalidPattern'))
    await expect(create(`/${r}/g/${group.id}/a**b`)).rejects.toEqual(code('InvalidPattern'))
    await expect(create(`/${r}/g/${other.id}/**`)).rejects.toEqual(code('PatternOutsideGroup'))
    await expect(create(`/${r}/admin/**`)).rejects.toEqual(code('PatternOutsideGroup'))
    await expect(create('/another-realm/**', null)).rejects.toEqual(code('PatternOutsideRealm'))
    const role = await create(`/${r}/g/${group.id}/**`)
    await expect(
      service.updateRole(admin, role.id, {
        rules: [{ pattern: `/${r}/g/${other.id}/**`, permission: 'WRITE' }],
      }),
    ).rejects.toEqual(code('PatternOutsideGroup'))
  })

  it('rejects a realm key that is not the realm id’s, and a bad delegation lifetime', () => {
    const { store, authorizer, realm } = setup()
    const other = createRealmKey()
    const init = { store, authorizer, realmId: realm.realm }
    expect(() => new OrgaService({ ...init, realmKey: other.privateKey })).toThrow(code('InvalidInput'))
    expect(() => new OrgaService({ ...init, realmKey: realm.publicKey })).toThrow(code('InvalidInput'))
    expect(() => new OrgaService({ ...init, delegationTtlSeconds: 0 })).toThrow(code('InvalidInput'))
    expect(() => new OrgaService({ ...init, realmId: 'bad realm' })).toThrow(code('InvalidInput'))
    expect(new OrgaService(init).holdsRealmKey).toBe(false)
  })

  it('maps an invalid path from the authorizer to InvalidInput and passes other errors on', async () => {
    const { store, realm } = setup()
    const throwing = (err: Error): Authorizer => ({
      authorize: async () => {
        throw err
      },
      check: async () => {
        throw err
      },
    })
    const bad = new OrgaService({
      store,
      authorizer: throwing(new AuthError('InvalidPath', 'x')),
      realmId: realm.realm,
    })
    await expect(bad.listNodes(admin)).rejects.toEqual(code('InvalidInput'))
    const boom = new OrgaService({ store, authorizer: throwing(new Error('down')), realmId: realm.realm })
    await expect(boom.listNodes(admin)).rejects.toThrow('down')
  })
})

describe('OrgaService: registering users on OIDC login', () => {
  it('creates the user on the first login and returns it on the next, without a caller', async () => {
    const { service, authorizer } = setup()
    const first = await service.registerLogin({ issuer: ISSUER, subject: 'alice', displayName: ' Alice ' })
    expect(first.created).toBe(true)
    expect(first.user).toMatchObject({
      displayName: 'Alice',
      identities: [{ issuer: ISSUER, subject: 'alice' }],
    })
    const second = await service.registerLogin({ issuer: ISSUER, subject: 'alice', displayName: 'Alice B.' })
    expect(second).toEqual({ user: first.user, created: false })
    expect(authorizer.calls).toEqual([])
  })

  it('validates the login', async () => {
    const { service } = setup()
    for (const bad of [
      null,
      { issuer: '', subject: 'a', displayName: 'A' },
      { issuer: ISSUER, subject: 'x'.repeat(256), displayName: 'A' },
      { issuer: ISSUER, subject: 'a\nb', displayName: 'A' },
      { issuer: ISSUER, subject: 'a', displayName: '' },
      { issuer: ISSUER, subject: 'a' },
    ]) {
      await expect(service.registerLogin(bad as never), JSON.stringify(bad)).rejects.toEqual(
        code('InvalidInput'),
      )
    }
  })
})

describe('OrgaService: a node joins with an invite', () => {
  it('signs a delegation for the joining peer that verifyDelegation accepts, and lists the node', async () => {
    let now = Date.UTC(2030, 0, 1)
    const ctx = setup({ now: () => now })
    ctx.authorizer.allow(admin.userId, 'WRITE', `/${ctx.r}/admin/nodes`)
    const invite = await ctx.service.createInvite(admin, { ttlMs: 60_000 })
    const peerId = await peer()
    const joined = await ctx.service.redeemInvite({
      secret: invite.secret,
      peerId,
      addresses: ['/ip4/10.0.0.2/tcp/4001'],
    })
    expect(joined.realmId).toBe(ctx.r)
    expect(joined.node).toMatchObject({ peerId, kind: 'server', delegation: joined.delegation })
    const verified = verifyDelegation(joined.delegation, ctx.r, {
      node: nodeKeyIdOfPeer(peerId),
      now: now / 1000 + 3600,
    })
    expect(verified.exp).toBe(now / 1000 + 365 * 24 * 3600)
    expect(() =>
      verifyDelegation(joined.delegation, ctx.r, { node: createRealmKey().publicKey, now: now / 1000 }),
    ).toThrow()
    expect(await ctx.store.isMember(peerId)).toBe(true)

    // the invite is one-time
    await expect(ctx.service.redeemInvite({ secret: invite.secret, peerId: await peer() })).rejects.toEqual(
      code('InviteUsed'),
    )
    // and expires
    const late = await ctx.service.createInvite(admin, { ttlMs: 1000 })
    now += 1001
    await expect(ctx.service.redeemInvite({ secret: late.secret, peerId: await peer() })).rejects.toEqual(
      code('InviteExpired'),
    )
    await expect(ctx.service.redeemInvite({ secret: 'A'.repeat(43), peerId: await peer() })).rejects.toEqual(
      code('NotFound'),
    )
  })

  it('refuses without the realm key and leaves the invite unused', async () => {
    const ctx = setup({ realmKey: false })
    ctx.authorizer.allow(admin.userId, 'WRITE', `/${ctx.r}/admin/nodes`)
    const invite = await ctx.service.createInvite(admin, { ttlMs: 60_000 })
    const err = await ctx.service
      .redeemInvite({ secret: invite.secret, peerId: await peer() })
      .catch((e) => e)
    expect(err).toBeInstanceOf(NoRealmKeyError)
    expect(err).toEqual(code('PermissionDenied'))
    expect(err.reason).toBe('NoRealmKey')
    expect((await ctx.store.listInvites())[0]?.redeemedBy).toBeUndefined()
  })

  it('validates the join request', async () => {
    const { service } = setup()
    const secret = 'A'.repeat(43)
    await expect(service.redeemInvite(null as never)).rejects.toEqual(code('InvalidInput'))
    await expect(service.redeemInvite({ secret: 'short', peerId: await peer() })).rejects.toEqual(
      code('InvalidInput'),
    )
    // letters and digits, but not an Ed25519 peer id
    await expect(
      service.redeemInvite({ secret, peerId: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }),
    ).rejects.toEqual(code('InvalidInput'))
    await expect(service.redeemInvite({ secret, peerId: await peer(), addresses: ['nope'] })).rejects.toEqual(
      code('InvalidInput'),
    )
  })
})

describe('OrgaService over PathAuthorizer with orga roles', () => {
  it('a realm admin sets up a group; its group admin manages only that group', async () => {
    const realm = createRealmKey()
    const r = realm.realm
    const store = new MemoryOrgaStore({ realmId: r })
    const service = new OrgaService({
      store,
      authorizer: new PathAuthorizer({ roles: orgaRoleSource(store) }),
      realmId: r,
      realmKey: realm.privateKey,
    })
    const login = async (subject: string): Promise<Principal> => ({
      userId: (await service.registerLogin({ issuer: ISSUER, subject, displayName: subject })).user.id,
    })
    const root = await login('root')
    const alice = await login('alice')
    const bob = await login('bob')
    // bootstrap (what `aruna init` does): the first user gets the realm admin role
    const admins = await store.createRole({
      name: 'admins',
      rules: [{ pattern: `/${r}/admin/**`, permission: 'WRITE' }],
    })
    await store.assignRole(admins.id, root.userId)

    const lab = await service.createGroup(root, { name: 'Lab' })
    const other = await service.createGroup(root, { name: 'Other' })
    await expect(service.createGroup(alice, { name: 'Mine' })).rejects.toEqual(code('PermissionDenied'))

    // root makes alice the lab's admin — root may not create group roles without a grant in the group
    await expect(service.createRole(root, { name: 'lab-admins', group: lab.id, rules: [] })).rejects.toEqual(
      code('PermissionDenied'),
    )
    const labAdmins = await store.createRole({
      name: 'lab-admins',
      group: lab.id,
      rules: [{ pattern: `/${r}/g/${lab.id}/**`, permission: 'WRITE' }],
    })
    await store.addMember(lab.id, alice.userId)
    await service.assignRole(root, admins.id, root.userId) // realm role: root may
    await expect(service.assignRole(root, labAdmins.id, alice.userId)).rejects.toEqual(
      code('PermissionDenied'),
    )
    await store.assignRole(labAdmins.id, alice.userId)

    await service.addMember(alice, lab.id, bob.userId)
    const readers = await service.createRole(alice, {
      name: 'readers',
      group: lab.id,
      rules: [{ pattern: `/${r}/g/${lab.id}/data/**`, permission: 'READ' }],
    })
    await service.assignRole(alice, readers.id, bob.userId)
    expect((await store.rolesForUser(bob.userId)).map((role) => role.name)).toEqual(['readers'])
    await service.revokeRole(alice, readers.id, bob.userId)
    await service.removeMember(alice, lab.id, bob.userId)

    await expect(service.addMember(alice, other.id, bob.userId)).rejects.toEqual(code('PermissionDenied'))
    await expect(service.assignRole(alice, admins.id, alice.userId)).rejects.toEqual(code('PermissionDenied'))
    await expect(service.createInvite(alice, { ttlMs: 1000 })).rejects.toEqual(code('PermissionDenied'))
    await expect(service.getConfig(alice)).rejects.toEqual(code('PermissionDenied'))

    const { warnings } = await service.setReplication(root, { scope: 'group', groupId: lab.id }, { data: 5 })
    expect(warnings).toContainEqual(
      expect.objectContaining({
        code: 'FactorAboveNodeCount',
        factor: 5,
        target: { scope: 'group', groupId: lab.id },
      }),
    )
    const quota = await service.setQuota(root, { groups: { [lab.id]: { objects: 10 } }, maxGroupsPerUser: 5 })
    expect(quota.groups[lab.id]).toEqual({ objects: 10 })
    const view = await service.getConfig(root)
    expect(view.config.replication.groups[lab.id]).toEqual({ data: 5 })
    expect(view.config.quota).toEqual(quota)
    for (const warning of warnings) expect(view.warnings).toContainEqual(warning)

    // a token restriction narrows the realm admin
    const narrowed: Principal = {
      ...root,
      restrictions: [{ pattern: `/${r}/admin/config`, permission: 'READ' }],
    }
    await expect(service.getConfig(narrowed)).resolves.toBeDefined()
    await expect(service.revokeToken(narrowed, 'jti')).rejects.toEqual(code('PermissionDenied'))
    await service.revokeToken(root, 'jti')
    expect(await store.isRevoked('jti')).toBe(true)
  })
})

describe('initRealm', () => {
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orga-realm-'))
    dirs.push(dir)
    return dir
  }

  it('creates the realm key in realm.key, mode 0600, readable back', async () => {
    const base = await tempDir()
    const directory = join(base, 'state')
    const realm = await OrgaService.initRealm({ directory, name: ' Research ' })
    expect(realm.name).toBe('Research')
    expect(realm.keyFile).toBe(join(directory, REALM_KEY_FILE))
    expect((await stat(realm.keyFile)).mode & 0o777).toBe(0o600)
    expect(await readFile(realm.keyFile, 'utf8')).toContain('BEGIN PRIVATE KEY')
    const loaded = await loadRealmKey(directory)
    expect(loaded.realmId).toBe(realm.realmId)
    // the key signs for the realm: a service over it admits nodes
    const store = new MemoryOrgaStore({ realmId: realm.realmId })
    const service = new OrgaService({
      store,
      authorizer: new MemoryAuthorizer(),
      realmId: loaded.realmId,
      realmKey: loaded.realmKey,
    })
    expect(service.holdsRealmKey).toBe(true)
  })

  it('refuses to overwrite an existing key and leaves no temp files', async () => {
    const directory = await tempDir()
    const first = await initRealm({ directory, name: 'R' })
    const before = await readFile(first.keyFile, 'utf8')
    await expect(initRealm({ directory, name: 'R' })).rejects.toEqual(code('AlreadyExists'))
    expect(await readFile(first.keyFile, 'utf8')).toBe(before)
    const { readdir } = await import('node:fs/promises')
    expect(await readdir(directory)).toEqual([REALM_KEY_FILE])
  })

  it('validates its input and reports a missing or broken key file', async () => {
    const directory = await tempDir()
    await expect(initRealm({ directory, name: '' })).rejects.toEqual(code('InvalidInput'))
    await expect(initRealm({ directory: '', name: 'R' })).rejects.toEqual(code('InvalidInput'))
    await expect(initRealm(null as never)).rejects.toEqual(code('InvalidInput'))
    await expect(loadRealmKey(directory)).rejects.toEqual(code('NotFound'))
    await writeFile(join(directory, REALM_KEY_FILE), 'garbage')
    await expect(loadRealmKey(directory)).rejects.toEqual(code('InvalidInput'))
    await expect(loadRealmKey(join(directory, REALM_KEY_FILE, 'x'))).rejects.toThrow()
  })
})

describe('orgaRoleSource', () => {
  async function withRole() {
    const realm = createRealmKey()
    const store = new MemoryOrgaStore({ realmId: realm.realm })
    const user = (await store.registerUser({ issuer: ISSUER, subject: 'alice', displayName: 'alice' })).user
    const role = await store.createRole({
      name: 'readers',
      rules: [{ pattern: `/${realm.realm}/g/**`, permission: 'READ' }],
    })
    return { store, user, role }
  }

  it('keeps a user’s roles, frozen, until the store changes, and sees a change at once', async () => {
    const { store, user, role } = await withRole()
    const source = orgaRoleSource(store)
    expect(await source.rolesFor(user.id)).toEqual([])
    await store.assignRole(role.id, user.id)
    const held = await source.rolesFor(user.id)
    expect(held.map((r) => r.name)).toEqual(['readers'])
    // Asked again with no change between: the same answer, at once.
    expect(source.rolesFor(user.id)).toBe(held)
    expect(Object.isFrozen(held)).toBe(true)
    expect(Object.isFrozen(held[0]!.rules[0])).toBe(true)
    expect(() => (held as RoleRecord[]).push(held[0] as RoleRecord)).toThrow(TypeError)
    // Another user's change clears it too; a revoke is seen by the very next question.
    await store.revokeRole(role.id, user.id)
    expect(await source.rolesFor(user.id)).toEqual([])
  })

  it('does not keep an answer read before a change that arrives after it', async () => {
    const { store, user, role } = await withRole()
    // The store's answer to the first question is held back until the change has happened.
    const { store: slow, release } = holdingFirstAnswer(store, 'rolesForUser')
    const source = orgaRoleSource(slow)
    const before = source.rolesFor(user.id)
    await new Promise((resolve) => setImmediate(resolve))
    await store.assignRole(role.id, user.id)
    release()
    expect(await before).toEqual([])
    expect((await source.rolesFor(user.id)).map((r) => r.name)).toEqual(['readers'])
  })
})
