import {
  type AutomergeUrl,
  type DocHandle,
  generateAutomergeUrl,
  ImmutableString,
  type PeerId,
  parseAutomergeUrl,
  Repo,
} from '@automerge/automerge-repo'
import { describe, expect, it } from 'vitest'
import {
  AutomergeOrgaStore,
  InProcessSyncNetwork,
  type OrgaChange,
  type RealmDoc,
  type UserDoc,
} from '../src/index.js'

const REALM = 'bafzrealmkey'
const is = (value: string) => new ImmutableString(value)
const ULID = (n: number) => `01J0000000000000000000000${n}`

async function realmHandle(repo: Repo, store: AutomergeOrgaStore): Promise<DocHandle<RealmDoc>> {
  return repo.find<RealmDoc>(store.realmUrl)
}

describe('AutomergeOrgaStore with documents written by a careless or hostile peer', () => {
  it('skips malformed entries instead of failing, and keeps answering', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    const good = await store.registerUser({ issuer: 'https://idp', subject: 'alice', displayName: 'Alice' })
    const group = await store.createGroup({ name: 'Lab' })
    const notAGroup = repo.create({ kind: is('something-else'), id: is(ULID(9)) })
    const handle = await realmHandle(repo, store)
    const seen: OrgaChange[] = []
    store.onChange((change) => seen.push(change))
    handle.change((doc) => {
      const loose = doc as unknown as Record<string, Record<string, unknown>>
      loose.nodes!['bad peer'] = { kind: is('server'), delegation: is('d'), addresses: [], addedAt: 1 }
      loose.nodes!.PeerNoKind = { kind: is('leader'), delegation: is('d'), addresses: [], addedAt: 1 }
      loose.nodes!.PeerNoTime = { kind: is('server'), delegation: is('d'), addresses: [] }
      loose.nodes!.PeerFine = {
        kind: is('server'),
        delegation: is('d'),
        addresses: [is('/ip4/1.2.3.4')],
        addedAt: 1,
      }
      loose.invites!['not-a-ulid'] = { secretHash: is('x'), createdAt: 1, expiresAt: 2, redemptions: {} }
      loose.invites![ULID(1)] = {
        secretHash: is('x'),
        createdAt: 1,
        expiresAt: 2,
        redemptions: { 'a b': 1, P: 'x' },
      }
      loose.invites![ULID(2)] = { createdAt: 1, expiresAt: 2 }
      loose.revokedTokens!.jti = true
      loose.revokedTokens!['jti-\u0001'] = true
      loose.revokedTokens!['jti-not-true'] = 'yes'
      loose.groups![ULID(3)] = is('not a url')
      loose.groups![ULID(9)] = is(notAGroup.url)
      loose.groups!['bad-id'] = is(group.id)
      loose.groups![ULID(4)] = 42
      loose.users![ULID(5)] = is(group.id)
      loose.roles![ULID(6)] = { name: is(''), createdAt: 1, rules: [], members: {} }
      loose.roles![ULID(7)] = {
        name: is('escaping'),
        createdAt: 1,
        rules: [{ pattern: is('/other-realm/**'), permission: is('READ') }],
        members: {},
      }
      loose.roles![ULID(8)] = {
        name: is('ok'),
        createdAt: 1,
        rules: 'all',
        members: { [good.user.id]: true },
      }
      const replication = loose.replication as Record<string, Record<string, Record<string, unknown>>>
      replication.paths!.data!['/elsewhere/x'] = 2
      replication.paths!.data![`/${REALM}/x/`] = 2
      replication.paths!.data![`/${REALM}/y`] = 0
      replication.paths!.metadata![`/${REALM}/z`] = is('all')
      replication.groups!.data!['not-a-group'] = 3
    })
    expect((await store.listNodes()).map((node) => node.peerId)).toEqual(['PeerFine'])
    // A missing cancel flag reads as not cancelled; the malformed redemptions are ignored.
    expect(await store.listInvites()).toEqual([{ id: ULID(1), createdAt: 1, expiresAt: 2 }])
    expect(await store.isRevoked('jti')).toBe(true)
    expect(await store.isRevoked('jti-not-true')).toBe(false)
    expect((await store.listGroups()).map((g) => g.id)).toEqual([group.id])
    expect((await store.listUsers()).map((u) => u.id)).toEqual([good.user.id])
    expect(await store.listRoles()).toEqual([])
    expect((await store.getRealm()).config.replication.paths).toEqual({
      [`/${REALM}/z`]: { metadata: 'all' },
    })
    expect(seen.map((change) => change.kind).sort()).toEqual(['config', 'invite', 'node', 'token'])
    expect(seen.every((change) => change.origin === 'remote')).toBe(true)
  })

  it('keeps the last good reading of the realm document when it stops being one', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM, realmName: 'Kept' })
    const handle = await realmHandle(repo, store)
    handle.change((doc) => {
      ;(doc as unknown as Record<string, unknown>).kind = is('vandalised')
      doc.name = is('Changed')
    })
    expect((await store.getRealm()).name).toBe('Kept')
  })

  it('reads a user without identities, or with malformed fields, as no user at all', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    const { user } = await store.registerUser({
      issuer: 'https://idp',
      subject: 'alice',
      displayName: 'Alice',
      attributes: { team: 'x' },
    })
    const userDoc = await repo.find<UserDoc>(
      (await realmHandle(repo, store)).doc().users[user.id]!.val as AutomergeUrl,
    )
    userDoc.change((doc) => {
      const loose = doc.attributes as unknown as Record<string, unknown>
      loose.count = 7
      loose['bad key'] = is('x')
      doc.identities.push({ issuer: is(''), subject: is('x') })
    })
    expect((await store.getUser(user.id)).attributes).toEqual({ team: 'x' })
    expect((await store.getUser(user.id)).identities).toHaveLength(1)
    userDoc.change((doc) => {
      doc.identities.splice(0, 2)
    })
    expect(await store.listUsers()).toEqual([])
  })

  it('shows a listed document that nobody had once a peer brings it', async () => {
    const network = new InProcessSyncNetwork()
    const source = new Repo({ network: [network.adapter()], peerId: 'source' as PeerId })
    const reader = new Repo({ network: [network.adapter()], peerId: 'reader' as PeerId })
    const store = await AutomergeOrgaStore.create({ repo: source, realmId: REALM })
    // A user document made elsewhere, under an id nobody holds yet.
    const userId = ULID(1)
    const other = new Repo()
    const elsewhere = other.create<UserDoc>({
      kind: is('aruna-orga-user'),
      schema: 1,
      id: is(userId),
      displayName: is('Late'),
      createdAt: 1,
      identities: [{ issuer: is('https://idp'), subject: is('late') }],
      attributes: {},
    })
    const url = generateAutomergeUrl()
    ;(await realmHandle(source, store)).change((doc) => (doc.users[userId] = is(url)))
    for (let i = 0; i < 200 && reader.peers.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    const joined = await AutomergeOrgaStore.open({
      repo: reader,
      realmUrl: store.realmUrl,
      loadTimeoutMs: 200,
    })
    expect(joined.syncStatus().pending).toBe(1)
    expect(await joined.whenLoaded(20)).toBe(false)
    expect(await joined.listUsers()).toEqual([])
    const seen: OrgaChange[] = []
    joined.onChange((change) => seen.push(change))
    const binary = await other.export(elsewhere.url)
    source.import(binary!, { docId: parseAutomergeUrl(url).documentId })
    expect(await joined.whenLoaded(5_000)).toBe(true)
    expect((await joined.getUser(userId)).displayName).toBe('Late')
    expect(seen).toEqual([{ kind: 'user', id: userId, origin: 'remote' }])
    await joined.close()
    await store.close()
  })
})
