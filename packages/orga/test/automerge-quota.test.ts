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

const REALM = 'bafzrealmkey'
const DEFAULTS = { defaultGroup: {}, groups: {}, gracePercent: 0, warnPercent: 90 }

let current: AutomergeReplicas | undefined
afterEach(async () => {
  await current?.close()
  current = undefined
})

async function realmHandle(repo: Repo, store: AutomergeOrgaStore): Promise<DocHandle<RealmDoc>> {
  return repo.find<RealmDoc>(store.realmUrl)
}

/** Makes the realm document look like one written before quotas existed. */
function dropQuota(handle: DocHandle<RealmDoc>): void {
  handle.change((doc) => {
    delete doc.quota
  })
}

describe('AutomergeOrgaStore quotas', () => {
  it('creates the realm document with an empty quota map', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    expect((await realmHandle(repo, store)).doc().quota).toEqual({
      defaultGroup: {},
      groups: { bytes: {}, objects: {} },
    })
    await store.close()
  })

  it('reads a realm document made before quotas as the defaults, and creates the map on the first change', async () => {
    const repo = new Repo()
    const first = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    const lab = await first.createGroup({ name: 'Lab' })
    const handle = await realmHandle(repo, first)
    dropQuota(handle)
    await first.close()
    const store = await AutomergeOrgaStore.open({ repo, realmUrl: handle.url })
    expect((await store.getRealm()).config.quota).toEqual(DEFAULTS)
    await store.deleteGroup((await store.createGroup({ name: 'Gone' })).id)
    expect(handle.doc().quota).toBeUndefined()
    const seen: OrgaChange[] = []
    store.onChange((change) => seen.push(change))
    await store.setQuota({ groups: { [lab.id]: { bytes: 7 } }, maxGroupsPerUser: 2 })
    expect((await store.getRealm()).config.quota).toEqual({
      ...DEFAULTS,
      groups: { [lab.id]: { bytes: 7 } },
      maxGroupsPerUser: 2,
    })
    expect(seen).toEqual([{ kind: 'config', id: REALM, origin: 'local' }])
    await store.close()
  })

  it('merges quota maps two replicas created at once in an old realm document', async () => {
    current = await createAutomergeReplicas(2, { realmId: REALM })
    const [a, b] = current.replicas as [AutomergeOrgaStore, AutomergeOrgaStore]
    const lab = await a.createGroup({ name: 'Lab' })
    dropQuota(await realmHandle(current.repos[0]!, a))
    await current.settle()

    current.partition()
    await a.setQuota({ defaultGroup: { bytes: 100 }, warnPercent: 80, groups: { [lab.id]: { bytes: 1 } } })
    await b.setQuota({ defaultGroup: { bytes: 200 }, gracePercent: 10, groups: { [lab.id]: { objects: 2 } } })
    await current.settle()
    const handleOnA = await realmHandle(current.repos[0]!, a)
    expect(Object.keys(getConflicts(handleOnA.doc(), 'quota') ?? {})).toHaveLength(2)
    const merged = (await a.getRealm()).config.quota
    expect((await b.getRealm()).config.quota).toEqual(merged)
    expect(merged).toMatchObject({
      warnPercent: 80,
      gracePercent: 10,
      groups: { [lab.id]: { bytes: 1, objects: 2 } },
    })
    expect([100, 200]).toContain(merged.defaultGroup.bytes)

    // Later changes reach every copy: a removal does not let the other copy's value show through.
    await b.setQuota({ defaultGroup: { bytes: null }, warnPercent: 60 })
    await a.deleteGroup(lab.id)
    await current.settle()
    for (const store of [a, b]) {
      expect((await store.getRealm()).config.quota).toEqual({
        ...DEFAULTS,
        gracePercent: 10,
        warnPercent: 60,
      })
    }
    const copies = Object.values(
      getConflicts(handleOnA.doc(), 'quota') ?? {},
    ) as unknown as RealmDoc['quota'][]
    for (const copy of copies) {
      expect(copy?.defaultGroup).toEqual({})
      expect(copy?.groups).toEqual({ bytes: {}, objects: {} })
    }
  })

  it('skips quota values a careless or hostile peer wrote, reading the defaults in their place', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    const lab = await store.createGroup({ name: 'Lab' })
    const handle = await realmHandle(repo, store)
    handle.change((doc) => {
      const quota = doc.quota as unknown as Record<string, unknown>
      quota.defaultGroup = { bytes: -1, objects: 2.5 }
      quota.groups = {
        bytes: { [lab.id]: 5, 'not-a-ulid': 3 },
        objects: { [lab.id]: new ImmutableString('lots') },
      }
      quota.gracePercent = 101
      quota.warnPercent = 0
      quota.maxGroupsPerUser = 0
    })
    expect((await store.getRealm()).config.quota).toEqual({ ...DEFAULTS, groups: { [lab.id]: { bytes: 5 } } })
    handle.change((doc) => {
      ;(doc as unknown as Record<string, unknown>).quota = new ImmutableString('vandalised')
    })
    expect((await store.getRealm()).config.quota).toEqual(DEFAULTS)
    // The next change replaces what is not a map.
    await store.setQuota({ maxGroupsPerUser: 3 })
    expect((await store.getRealm()).config.quota).toEqual({ ...DEFAULTS, maxGroupsPerUser: 3 })
    await store.close()
  })

  it('keeps limits up to the largest safe integer, which Automerge stores as a 64-bit integer', async () => {
    const repo = new Repo()
    const store = await AutomergeOrgaStore.create({ repo, realmId: REALM })
    await store.setQuota({ defaultGroup: { bytes: Number.MAX_SAFE_INTEGER } })
    const handle = await realmHandle(repo, store)
    await store.close()
    const reopened = await AutomergeOrgaStore.open({ repo, realmUrl: handle.url })
    expect((await reopened.getRealm()).config.quota.defaultGroup).toEqual({ bytes: Number.MAX_SAFE_INTEGER })
    await reopened.close()
  })
})
