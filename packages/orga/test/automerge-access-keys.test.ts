import { getConflicts } from '@automerge/automerge'
import { type DocHandle, ImmutableString, Repo } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AutomergeOrgaStore,
  type AutomergeReplicas,
  createAutomergeReplicas,
  type OrgaChange,
  type RealmDoc,
} from '../src/index.js'
import { accessKey, accessKeyId, login } from '../src/testing/helpers.js'
import { expectOrgaError } from '../src/testing/index.js'

const REALM = 'bafzrealmkey'
const is = (value: string) => new ImmutableString(value)

let current: AutomergeReplicas | undefined
afterEach(async () => {
  await current?.close()
  current = undefined
})

async function realmHandle(repo: Repo, store: AutomergeOrgaStore): Promise<DocHandle<RealmDoc>> {
  return repo.find<RealmDoc>(store.realmUrl)
}

/** Makes the realm document look like one written before access keys existed. */
function dropAccessKeyMaps(handle: DocHandle<RealmDoc>): void {
  handle.change((doc) => {
    delete doc.accessKeys
    delete doc.revokedAccessKeys
  })
}

const ids = async (store: AutomergeOrgaStore) =>
  (await store.listAccessKeys()).map((record) => record.accessKeyId)

describe('AutomergeOrgaStore access keys', () => {
  it('creates the realm document with both access key maps', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    const doc = (await realmHandle(repo, store)).doc()
    expect(doc.accessKeys).toEqual({})
    expect(doc.revokedAccessKeys).toEqual({})
    await store.close()
  })

  it('opens and uses a realm document made before access keys existed', async () => {
    const repo = new Repo()
    const first = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    const alice = (await first.registerUser(login('alice'))).user
    const handle = await realmHandle(repo, first)
    dropAccessKeyMaps(handle)
    await first.close()
    const store = await AutomergeOrgaStore.open({ repo, realmUrl: handle.url })
    expect(await store.listAccessKeys()).toEqual([])
    expect(await store.getAccessKey(accessKeyId(1))).toBeUndefined()
    await expectOrgaError(store.revokeAccessKey(accessKeyId(1)), 'NotFound')
    const seen: OrgaChange[] = []
    store.onChange((change) => seen.push(change))
    await store.addAccessKey(accessKey(1, alice.id))
    await store.addAccessKey(accessKey(2, alice.id))
    expect(await ids(store)).toEqual([accessKeyId(1), accessKeyId(2)])
    await store.revokeAccessKey(accessKeyId(1))
    expect(await ids(store)).toEqual([accessKeyId(2)])
    expect(handle.doc().revokedAccessKeys).toEqual({ [accessKeyId(1)]: true })
    expect(Object.keys(handle.doc().accessKeys ?? {})).toEqual([accessKeyId(2)])
    expect(seen.map((change) => [change.kind, change.id, change.userId])).toEqual([
      ['accessKey', accessKeyId(1), alice.id],
      ['accessKey', accessKeyId(2), alice.id],
      ['accessKey', accessKeyId(1), alice.id],
    ])
    await store.close()
  })

  it('keeps keys and revocations from maps two replicas created at once in an old realm document', async () => {
    current = await createAutomergeReplicas(2, { realmId: REALM })
    const [a, b] = current.replicas as [AutomergeOrgaStore, AutomergeOrgaStore]
    const alice = (await a.registerUser(login('alice'))).user
    dropAccessKeyMaps(await realmHandle(current.repos[0]!, a))
    await current.settle()

    // Each replica creates `accessKeys` for its first key: two maps for one field.
    current.partition()
    await a.addAccessKey(accessKey(1, alice.id))
    await b.addAccessKey(accessKey(2, alice.id))
    expect(await ids(b)).toEqual([accessKeyId(2)])
    await current.settle()
    const handleOnA = await realmHandle(current.repos[0]!, a)
    expect(Object.keys(getConflicts(handleOnA.doc(), 'accessKeys') ?? {})).toHaveLength(2)
    for (const store of [a, b]) expect(await ids(store)).toEqual([accessKeyId(1), accessKeyId(2)])

    // Each revokes the other's key (which may live in the map that lost), creating `revokedAccessKeys`
    // twice; a key added later goes into the map that won, and every key stays visible meanwhile.
    current.partition()
    await a.revokeAccessKey(accessKeyId(2))
    await b.revokeAccessKey(accessKeyId(1))
    await a.addAccessKey(accessKey(3, alice.id))
    expect(await ids(a)).toEqual([accessKeyId(1), accessKeyId(3)])
    expect(await ids(b)).toEqual([accessKeyId(2)])
    await current.settle()
    expect(Object.keys(getConflicts(handleOnA.doc(), 'revokedAccessKeys') ?? {})).toHaveLength(2)
    for (const store of [a, b]) {
      expect(await ids(store)).toEqual([accessKeyId(3)])
      await expectOrgaError(store.addAccessKey(accessKey(1, alice.id)), 'AlreadyExists')
      await expectOrgaError(store.addAccessKey(accessKey(2, alice.id)), 'AlreadyExists')
      await store.revokeAccessKey(accessKeyId(2))
    }
    // The sealed secrets of revoked keys are gone from every copy of the map.
    const copies = Object.values(getConflicts(handleOnA.doc(), 'accessKeys') ?? {}) as object[]
    expect(copies.flatMap((copy) => Object.keys(copy)).sort()).toEqual([accessKeyId(3)])
  })

  it('keeps answering with a revoked key on a replica that has not heard of the revocation yet', async () => {
    current = await createAutomergeReplicas(2, { realmId: REALM })
    const [a, b] = current.replicas as [AutomergeOrgaStore, AutomergeOrgaStore]
    const alice = (await a.registerUser(login('alice'))).user
    await a.addAccessKey(accessKey(1, alice.id))
    await current.settle()
    current.partition()
    await a.revokeAccessKey(accessKeyId(1))
    expect(await b.getAccessKey(accessKeyId(1))).toEqual(accessKey(1, alice.id))
    const seen: OrgaChange[] = []
    b.onChange((change) => seen.push(change))
    await current.settle()
    expect(await b.getAccessKey(accessKeyId(1))).toBeUndefined()
    expect(seen).toEqual([{ kind: 'accessKey', id: accessKeyId(1), userId: alice.id, origin: 'remote' }])
  })

  it('skips malformed access key entries written by a careless or hostile peer', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    const alice = (await store.registerUser(login('alice'))).user
    const handle = await realmHandle(repo, store)
    const seen: OrgaChange[] = []
    store.onChange((change) => seen.push(change))
    const sealed = { keyId: is('k'), iv: is('i'), ciphertext: is('c'), tag: is('t') }
    const ULID_UNKNOWN = '01J00000000000000000000009'
    handle.change((doc) => {
      const keys = doc.accessKeys as unknown as Record<string, unknown>
      keys['not-an-id'] = { userId: is(alice.id), createdAt: 1, sealed }
      keys[accessKeyId(1)] = { userId: is(alice.id), createdAt: 1 }
      keys[accessKeyId(2)] = { userId: 42, createdAt: 1, sealed }
      keys[accessKeyId(3)] = { userId: is(alice.id), createdAt: 1, sealed: { ...sealed, tag: is('') } }
      keys[accessKeyId(4)] = { userId: is(alice.id), createdAt: 1, description: 7, sealed }
      keys[accessKeyId(5)] = { userId: is(ULID_UNKNOWN), createdAt: 1, sealed }
      // Plain strings instead of ImmutableStrings are fine.
      keys[accessKeyId(6)] = {
        userId: alice.id,
        createdAt: 2,
        description: 'plain',
        sealed: { keyId: 'k', iv: 'i', ciphertext: 'c', tag: 't' },
      }
      keys[accessKeyId(7)] = { userId: is(alice.id), createdAt: 3, sealed }
      const revoked = doc.revokedAccessKeys as unknown as Record<string, unknown>
      revoked[accessKeyId(7)] = 'yes'
      revoked['lower-case'] = true
    })
    expect(await store.listAccessKeys()).toEqual([
      {
        accessKeyId: accessKeyId(6),
        userId: alice.id,
        createdAt: 2,
        description: 'plain',
        sealed: { keyId: 'k', iv: 'i', ciphertext: 'c', tag: 't' },
      },
      {
        accessKeyId: accessKeyId(7),
        userId: alice.id,
        createdAt: 3,
        sealed: { keyId: 'k', iv: 'i', ciphertext: 'c', tag: 't' },
      },
    ])
    expect(seen).toEqual([
      { kind: 'accessKey', id: accessKeyId(6), userId: alice.id, origin: 'remote' },
      { kind: 'accessKey', id: accessKeyId(7), userId: alice.id, origin: 'remote' },
    ])
    // A key of an unknown user is held but not active: its id is taken, and it can be revoked.
    expect(await store.getAccessKey(accessKeyId(5))).toBeUndefined()
    await expectOrgaError(store.addAccessKey(accessKey(5, alice.id)), 'AlreadyExists')
    await store.revokeAccessKey(accessKeyId(5))
    expect(handle.doc().revokedAccessKeys?.[accessKeyId(5)]).toBe(true)
    // A map replaced by something else reads as no keys, and the next key brings a map back.
    handle.change((doc) => {
      ;(doc as unknown as Record<string, unknown>).accessKeys = is('vandalised')
    })
    expect(await store.listAccessKeys()).toEqual([])
    await store.addAccessKey(accessKey(8, alice.id))
    expect(await ids(store)).toEqual([accessKeyId(8)])
  })
})
