import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsyncStorageAdapter } from '@aruna/platform'
import { Repo } from '@automerge/automerge-repo'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AutomergeOrgaStore,
  InProcessSyncNetwork,
  isOrgaError,
  type OrgaStore,
  openDirectoryOrgaStore,
  settleReplicas,
} from '../src/index.js'

const REALM = 'bafzrealmkey'

/** Everything a store answers. */
async function snapshot(store: OrgaStore): Promise<unknown> {
  const groups = await store.listGroups()
  const users = await store.listUsers()
  return {
    realm: await store.getRealm(),
    nodes: await store.listNodes(),
    invites: await store.listInvites(),
    groups,
    users,
    realmRoles: await store.listRoles(),
    groupRoles: await Promise.all(groups.map((group) => store.listRoles({ group: group.id }))),
    held: await Promise.all(users.map((user) => store.rolesForUser(user.id))),
    revoked: await store.isRevoked('jti-1'),
  }
}

async function populate(store: OrgaStore): Promise<void> {
  await store.renameRealm('Research Federation')
  await store.addNode({
    peerId: 'PeerA',
    kind: 'management',
    delegation: 'd',
    addresses: ['/ip4/127.0.0.1/tcp/1'],
  })
  const invite = await store.createInvite({ ttlMs: 60_000 })
  await store.redeemInvite(invite.secret, { peerId: 'PeerB', delegation: 'd', addresses: [] })
  const { user } = await store.registerUser({
    issuer: 'https://login.example.org',
    subject: 'alice',
    displayName: 'Alice',
    attributes: { email: 'alice@example.org' },
  })
  const lab = await store.createGroup({ name: 'Genomics Lab' })
  await store.addMember(lab.id, user.id)
  const role = await store.createRole({
    name: 'readers',
    group: lab.id,
    rules: [{ pattern: `/${REALM}/g/${lab.id}/**`, permission: 'READ' }],
  })
  await store.assignRole(role.id, user.id)
  await store.createRole({
    name: 'operators',
    rules: [{ pattern: `/${REALM}/admin/**`, permission: 'WRITE' }],
  })
  await store.setReplication({ scope: 'group', groupId: lab.id }, { data: 2 })
  await store.revokeToken('jti-1')
}

async function codeOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call
    return undefined
  } catch (err) {
    return isOrgaError(err) ? err.code : String(err)
  }
}

describe('AutomergeOrgaStore on disk', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'orga-store-'))
  })
  afterEach(() => rm(directory, { recursive: true, force: true }))

  it('brings every document back after a restart', async () => {
    const first = await openDirectoryOrgaStore({ directory, realm: { create: { realmId: REALM } } })
    await populate(first)
    const before = await snapshot(first)
    const url = first.realmUrl
    await first.close()

    const reopened = await openDirectoryOrgaStore({ directory })
    expect(reopened.realmUrl).toBe(url)
    expect(reopened.syncStatus().pending).toBe(0)
    expect(await snapshot(reopened)).toEqual(before)
    await reopened.close()
    expect((await readFile(join(directory, 'realm-url'), 'utf8')).trim()).toBe(url)
  })

  it('has every change on disk once the call resolves, without a close', async () => {
    const first = await openDirectoryOrgaStore({ directory, realm: { create: { realmId: REALM } } })
    const group = await first.createGroup({ name: 'Written' })
    // A second Repo on the same directory reads only what storage holds (no close, no shared memory).
    const storage = await FsyncStorageAdapter.open({ directory: join(directory, 'documents') })
    const reader = await AutomergeOrgaStore.open({ repo: new Repo({ storage }), realmUrl: first.realmUrl })
    expect(await reader.getGroup(group.id)).toEqual(group)
    await reader.close()
    await first.close()
  })

  it('refuses a directory without a realm unless told to create or join one', async () => {
    expect(await codeOf(openDirectoryOrgaStore({ directory }))).toBe('InvalidInput')
  })

  it('refuses to join another realm than the directory holds, and checks the realm id it expects', async () => {
    const first = await openDirectoryOrgaStore({ directory, realm: { create: { realmId: REALM } } })
    await first.close()
    const other = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ'
    expect(await codeOf(openDirectoryOrgaStore({ directory, realm: { join: other } }))).toBe('InvalidInput')
    expect(await codeOf(openDirectoryOrgaStore({ directory, realm: { create: { realmId: 'other' } } }))).toBe(
      'InvalidInput',
    )
    const again = await openDirectoryOrgaStore({ directory, realm: { create: { realmId: REALM } } })
    expect((await again.getRealm()).id).toBe(REALM)
    await again.close()
  })

  it('joins a realm over the network by its URL and keeps it for the next start', async () => {
    const network = new InProcessSyncNetwork()
    const founder = await openDirectoryOrgaStore({
      directory: join(directory, 'founder'),
      network: [network.adapter()],
      realm: { create: { realmId: REALM } },
    })
    await populate(founder)
    const joinerDir = join(directory, 'joiner')
    const joiner = await openDirectoryOrgaStore({
      directory: joinerDir,
      network: [network.adapter()],
      realm: { join: founder.realmUrl },
    })
    await settleReplicas([founder, joiner])
    const expected = await snapshot(founder)
    expect(await snapshot(joiner)).toEqual(expected)
    await joiner.close()
    await founder.close()
    // Offline now: the joiner's own disk has everything.
    const restarted = await openDirectoryOrgaStore({ directory: joinerDir })
    expect(await snapshot(restarted)).toEqual(expected)
    await restarted.close()
  })
})

describe('AutomergeOrgaStore.open', () => {
  it('refuses a malformed URL and a document that is not a realm', async () => {
    const repo = new Repo()
    expect(await codeOf(AutomergeOrgaStore.open({ repo, realmUrl: 'not a url' }))).toBe('InvalidInput')
    const handle = repo.create({ hello: 'world' })
    expect(await codeOf(AutomergeOrgaStore.open({ repo, realmUrl: handle.url }))).toBe('InvalidInput')
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    expect(await codeOf(AutomergeOrgaStore.open({ repo, realmUrl: store.realmUrl, realmId: 'other' }))).toBe(
      'InvalidInput',
    )
    const same = await AutomergeOrgaStore.open({ repo, realmUrl: store.realmUrl, realmId: REALM })
    expect(same.realmUrl).toBe(store.realmUrl)
  })

  it('gives up with NotFound when nobody has the realm document', async () => {
    const lonely = new Repo({ network: [new InProcessSyncNetwork().adapter()] })
    const missing = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ'
    expect(
      await codeOf(AutomergeOrgaStore.open({ repo: lonely, realmUrl: missing, loadTimeoutMs: 50 })),
    ).toBe('NotFound')
  })
})
