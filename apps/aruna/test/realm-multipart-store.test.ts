/**
 * The realm's multipart upload records on the in-memory network (with its faults): a part that
 * arrives before its upload, a write waiting for a node a little behind, a deletion a partitioned
 * node missed (it does not come back), the last write of a part number winning everywhere, and the
 * write quorum.
 */
import { isDataError, MemoryMultipartStore, type PartRecord, replicationProtocols } from '@aruna/data'
import { createMemoryNetwork, defineProtocol, type MemoryNetworkHub, messageCodec } from '@aruna/network'
import { afterEach, describe, expect, it } from 'vitest'
import { RealmMultipartStore } from '../src/federation/realm-multipart-store.js'
import { RealmNodes } from '../src/federation/realm-nodes.js'
import { type UploadRecordsPage, uploadRecordsPage } from '../src/federation/upload-record-pages.js'
import { UploadTombstones } from '../src/federation/upload-tombstones.js'
import { createLogger } from '../src/logger.js'
import { waitFor } from './wait-for.js'

const logger = createLogger({ level: 'silent', format: 'json' })
const protocols = replicationProtocols({ defineProtocol, messageCodec })

interface Member {
  readonly id: string
  readonly local: MemoryMultipartStore
  readonly nodes: RealmNodes
  readonly store: RealmMultipartStore
  readonly stop: () => void
}

async function realm(hub: MemoryNetworkHub, size: number): Promise<Member[]> {
  const networks = Array.from({ length: size }, (_, i) => hub.createNode({ peerId: `node-${i}` }))
  const ids = networks.map((network) => network.peerId)
  const members: Member[] = []
  for (const network of networks) {
    const local = new MemoryMultipartStore()
    const nodes = new RealmNodes({
      network,
      listNodes: async () => ids,
      dataFactor: async () => 3,
      downAfterMs: 60_000,
      logger,
    })
    const store = new RealmMultipartStore({
      local,
      network,
      protocols,
      nodes,
      tombstones: await UploadTombstones.open(),
      writeQuorum: 'majority',
      factor: 3,
      // Rounds run when a test asks for them.
      antiEntropyMs: 3_600_000,
      logger,
    })
    members.push({ id: network.peerId, local, nodes, store, stop: store.serve() })
  }
  await Promise.all(networks.map((network) => network.start()))
  await waitFor('every node sees every other', () =>
    networks.every((network) => network.peers().length === size - 1),
  )
  for (const member of members) await member.nodes.start()
  await Promise.all(members.map((member) => member.store.quiesce()))
  return members
}

const upload = (uploadId: string, initiated = new Date().toISOString()) => ({
  uploadId,
  bucket: 'photos',
  key: 'big.bin',
  initiated,
  initiator: 'alice',
  contentType: 'application/octet-stream',
  userMetadata: {},
})

const part = (partNumber: number, etag: string, lastModified: string): PartRecord => ({
  partNumber,
  etag: `"${etag}"`,
  size: 0,
  chunks: [],
  checksums: { md5: etag },
  lastModified,
})

async function parts(store: MemoryMultipartStore, uploadId: string): Promise<string[]> {
  const etags: string[] = []
  for await (const record of store.listParts(uploadId)) etags.push(`${record.partNumber}:${record.etag}`)
  return etags
}

async function known(store: MemoryMultipartStore, uploadId: string): Promise<boolean> {
  return store.getUpload(uploadId).then(
    () => true,
    () => false,
  )
}

describe('uploadRecordsPage', () => {
  it('pages through uploads, their parts and tombstones in upload id order without losing one', async () => {
    const local = new MemoryMultipartStore()
    for (const id of ['u-b', 'u-d']) {
      await local.createUpload(upload(id))
      for (const n of [1, 2, 3]) await local.putPart(id, part(n, `${id}${n}`, '2026-12-07T00:00:00.000Z'))
    }
    const tombstones = ['u-a', 'u-c'].map((uploadId) => ({
      uploadId,
      initiated: '2026-12-07T00:00:00.000Z',
      deletedAt: '2026-12-07T00:00:01.000Z',
    }))
    const whole = await uploadRecordsPage(local, tombstones, { kind: 'pull', limit: 1000 })
    expect(whole.next).toBeUndefined()
    for (const limit of [1, 2, 3, 5]) {
      const seen: string[] = []
      let page: UploadRecordsPage | undefined
      do {
        page = await uploadRecordsPage(local, tombstones, {
          kind: 'pull',
          limit,
          ...(page?.next === undefined ? {} : { after: page.next }),
        })
        expect(page.uploads.length + page.parts.length + page.tombstones.length).toBeLessThanOrEqual(limit)
        seen.push(
          ...page.tombstones.map((t) => `tombstone ${t.uploadId}`),
          ...page.uploads.map((u) => `upload ${u.uploadId}`),
          ...page.parts.map((p) => `part ${p.uploadId} ${p.part.partNumber}`),
        )
      } while (page.next !== undefined)
      expect(seen.sort()).toEqual(
        [
          'tombstone u-a',
          'tombstone u-c',
          'upload u-b',
          'upload u-d',
          ...['u-b', 'u-d'].flatMap((id) => [1, 2, 3].map((n) => `part ${id} ${n}`)),
        ].sort(),
      )
    }
    const one = await uploadRecordsPage(local, tombstones, { kind: 'pull', uploadId: 'u-d', limit: 1000 })
    expect([one.uploads.length, one.parts.length, one.tombstones.length]).toEqual([1, 3, 0])
  })
})

describe('RealmMultipartStore', () => {
  let hub: MemoryNetworkHub | undefined
  let members: Member[] = []

  afterEach(async () => {
    for (const member of members) {
      member.stop()
      member.nodes.stop()
    }
    await hub?.stopAll()
    hub = undefined
    members = []
  })

  it('replicates an upload and its parts to every node, and fetches an upload a part arrives before', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 500, pingIntervalMs: 100 })
    members = await realm(hub, 3)
    const [a, b, c] = members as [Member, Member, Member]
    await a.store.createUpload(upload('up-1'))
    await waitFor('node 1 has the upload', () => known(b.local, 'up-1'))
    await b.store.putPart('up-1', part(1, 'aa', '2026-12-07T00:00:00.000Z'))
    await waitFor('every node has the part', async () => {
      for (const member of members) if ((await parts(member.local, 'up-1')).length !== 1) return false
      return true
    })
    // An upload only node 0 knows (its push lost): a part pushed from there brings the upload along.
    await a.local.createUpload(upload('up-2'))
    await a.store.putPart('up-2', part(3, 'bb', '2026-12-07T00:00:01.000Z'))
    await waitFor('the others pulled the upload with its part', async () => {
      for (const member of [b, c]) if ((await parts(member.local, 'up-2')).length !== 1) return false
      return true
    })
    // A read of an upload not yet here asks the others.
    await a.local.createUpload(upload('up-3'))
    expect((await c.store.getUpload('up-3')).key).toBe('big.bin')
    expect(await known(c.local, 'up-3')).toBe(true)
  })

  it('acknowledges a write once the quorum has it and a node a little behind has it too', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 2000, pingIntervalMs: 100 })
    members = await realm(hub, 3)
    const [a, , c] = members as [Member, Member, Member]
    await a.store.createUpload(upload('up-1'))
    await waitFor('node 2 has the upload', () => known(c.local, 'up-1'))
    hub.delay(a.id, c.id, 300)
    const started = Date.now()
    await a.store.putPart('up-1', part(1, 'aa', '2026-12-07T00:00:00.000Z'))
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(await parts(c.local, 'up-1')).toEqual(['1:"aa"'])
  })

  it('keeps a deleted upload deleted when a node that missed the deletion comes back', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 300, pingIntervalMs: 100 })
    members = await realm(hub, 3)
    const [a, b, c] = members as [Member, Member, Member]
    await a.store.createUpload(upload('up-1'))
    await a.store.putPart('up-1', part(1, 'aa', '2026-12-07T00:00:00.000Z'))
    await waitFor('node 2 has the upload', () => known(c.local, 'up-1'))
    hub.partition([a.id, b.id], [c.id])
    await waitFor('node 2 is cut off', () => c.nodes.connected().length === 0)
    await b.store.deleteUpload('up-1')
    expect(await known(a.local, 'up-1')).toBe(false)
    hub.heal()
    await waitFor('the realm is whole again', () =>
      members.every((member) => member.nodes.connected().length === 2),
    )
    // Node 0 pulls node 2's stale copy: it does not come back. Node 2 pulls the tombstone.
    await a.store.antiEntropy(c.id)
    expect(await known(a.local, 'up-1')).toBe(false)
    await c.store.antiEntropy(a.id)
    expect(await known(c.local, 'up-1')).toBe(false)
    const refused = await c.store.getUpload('up-1').catch((err: unknown) => err)
    expect(isDataError(refused, 'NoSuchUpload')).toBe(true)
  })

  it('settles a part number written on two sides of a partition on the later write everywhere', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 300, pingIntervalMs: 100 })
    members = await realm(hub, 3)
    const [a, b, c] = members as [Member, Member, Member]
    await a.store.createUpload(upload('up-1'))
    await waitFor('node 2 has the upload', () => known(c.local, 'up-1'))
    hub.partition([a.id, b.id], [c.id])
    await waitFor('node 2 is cut off', () => c.nodes.connected().length === 0)
    await a.store.putPart('up-1', part(2, 'later', '2026-12-07T00:00:05.000Z'))
    // Node 2 alone has no quorum: its write is refused but stays here, and anti-entropy carries it.
    const lonely = await c.store
      .putPart('up-1', part(2, 'earlier', '2026-12-07T00:00:01.000Z'))
      .catch((err: unknown) => err)
    expect(isDataError(lonely, 'ServiceUnavailable')).toBe(true)
    expect(String((lonely as Error).message)).toMatch(/only 1 of the 2 nodes a write needs stored part 2/)
    hub.heal()
    await waitFor('the realm is whole again', () =>
      members.every((member) => member.nodes.connected().length === 2),
    )
    for (const member of members)
      for (const other of members) if (other !== member) await member.store.antiEntropy(other.id)
    for (const member of members) expect(await parts(member.local, 'up-1')).toEqual(['2:"later"'])
    expect(b.store.counters.antiEntropyRounds).toBeGreaterThanOrEqual(2)
  })

  it('takes no records of uploads older than the retention from other nodes', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 500, pingIntervalMs: 100 })
    members = await realm(hub, 2)
    const [a, b] = members as [Member, Member]
    await a.local.createUpload(upload('ancient', '2020-01-01T00:00:00.000Z'))
    await b.store.antiEntropy(a.id)
    expect(await known(b.local, 'ancient')).toBe(false)
  })
})
