/**
 * A PutObject's small chunk travels to its other holders with its version record (`ChunkRiders`):
 * one push per node instead of a chunk push and a record push. On the in-memory network, five nodes,
 * data factor 3: the chunk's write quorum is still awaited among its holders, a chunk whose record
 * never comes goes alone, and a node refuses chunk bytes that do not match their id.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ContentVersion,
  chunkCidOf,
  DataError,
  HybridLogicalClock,
  MemoryBlobStore,
  MemoryObjectIndex,
  replicationProtocols,
} from '@aruna/data'
import { createMemoryNetwork, defineProtocol, type MemoryNetworkHub, messageCodec } from '@aruna/network'
import { afterEach, describe, expect, it } from 'vitest'
import { BucketTombstones } from '../src/federation/bucket-tombstones.js'
import { RealmBlobStore } from '../src/federation/realm-blob-store.js'
import { RealmNodes } from '../src/federation/realm-nodes.js'
import { RealmObjectIndex } from '../src/federation/realm-object-index.js'
import { createLogger } from '../src/logger.js'
import { waitFor } from './wait-for.js'

const logger = createLogger({ level: 'silent', format: 'json' })
const protocols = replicationProtocols({ defineProtocol, messageCodec })
const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'

interface Member {
  readonly id: string
  readonly blobs: MemoryBlobStore
  readonly local: MemoryObjectIndex
  readonly store: RealmBlobStore
  readonly index: RealmObjectIndex
  readonly clock: HybridLogicalClock
  /** Protocol ids of the requests this node sent, with whether a versions push carried chunks. */
  readonly sent: string[]
  /** Makes this node refuse every chunk that comes with a version record. */
  refuseChunks: boolean
  /** Makes this node take such chunks with a deferred commit that then fails (`PutOptions.deferCommit`). */
  failCommits: boolean
}

function version(member: Member, key: string, bytes: Uint8Array): ContentVersion {
  const md5 = createHash('md5').update(bytes).digest('hex')
  return {
    bucket: 'photos',
    key,
    versionId: member.clock.next(),
    createdAt: new Date().toISOString(),
    manifest: {
      chunks: [{ cid: chunkCidOf(bytes), size: bytes.byteLength }],
      size: bytes.byteLength,
      contentType: 'application/octet-stream',
      userMetadata: {},
      checksums: { md5 },
      etag: `"${md5}"`,
    },
  }
}

describe('small chunks with their version records', () => {
  let hub: MemoryNetworkHub | undefined
  let dir: string | undefined
  let stops: Array<() => void> = []

  afterEach(async () => {
    for (const stop of stops) stop()
    stops = []
    await hub?.stopAll()
    hub = undefined
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  async function realm(options: { riderTtlMs?: number } = {}): Promise<Member[]> {
    hub = createMemoryNetwork()
    dir = await mkdtemp(join(tmpdir(), 'aruna-riders-'))
    const networks = Array.from({ length: 5 }, (_, i) => hub!.createNode({ peerId: `node-${i}` }))
    const ids = networks.map((network) => network.peerId)
    const members: Member[] = []
    for (const [i, network] of networks.entries()) {
      const sent: string[] = []
      const request = network.request.bind(network)
      network.request = ((peer, protocol, message, opts) => {
        const chunks = (message as { chunks?: unknown[] }).chunks
        sent.push(chunks === undefined ? protocol.id : `${protocol.id} +${chunks.length} chunks`)
        return request(peer, protocol, message, opts)
      }) as typeof network.request
      const nodes = new RealmNodes({
        network,
        listNodes: async () => ids,
        dataFactor: async () => 3,
        downAfterMs: 60_000,
        logger,
      })
      const blobs = new MemoryBlobStore()
      const local = new MemoryObjectIndex()
      const clock = new HybridLogicalClock(network.peerId)
      const store = new RealmBlobStore({
        local: blobs,
        network,
        protocols,
        nodes,
        writeQuorum: 'majority',
        logger,
        ...(options.riderTtlMs === undefined ? {} : { riderTtlMs: options.riderTtlMs }),
      })
      const member: Member = {
        id: network.peerId,
        blobs,
        local,
        store,
        clock,
        sent,
        refuseChunks: false,
        failCommits: false,
        index: new RealmObjectIndex({
          local,
          network,
          protocols,
          nodes,
          tombstones: await BucketTombstones.open(join(dir, `tombstones-${i}.json`)),
          clock,
          createBucketAt: (name, bucketOptions) => local.createBucket(name, bucketOptions),
          writeQuorum: 'majority',
          factor: 3,
          antiEntropyMs: 3_600_000,
          logger,
          riders: store.riders,
          storeChunk: async (cid, bytes, deferCommit) => {
            if (member.refuseChunks) throw new DataError('ServiceUnavailable', 'refusing chunks (test)')
            if (member.failCommits) {
              deferCommit(Promise.reject(new DataError('ServiceUnavailable', 'the commit failed (test)')))
              return
            }
            await blobs.putVerified(cid, bytes)
          },
        }),
      }
      stops.push(store.serve(), member.index.serve())
      members.push(member)
      await nodes.start()
      stops.push(() => nodes.stop())
    }
    await Promise.all(networks.map((network) => network.start()))
    await waitFor('every node sees every other', () =>
      networks.every((network) => network.peers().length === 4),
    )
    const first = members[0] as Member
    await first.index.createBucket('photos', { group: GROUP })
    await waitFor('the bucket is on every node', async () => {
      const found = await Promise.all(
        members.map((m) =>
          m.local.getBucket('photos').then(
            () => true,
            () => false,
          ),
        ),
      )
      return found.every(Boolean)
    })
    for (const member of members) member.sent.length = 0
    return members
  }

  /** Bytes, their chunk's holders (best first) and the entry node: the first holder. */
  function placed(members: Member[], fill: number): { bytes: Uint8Array; cid: string; holders: Member[] } {
    const bytes = new Uint8Array(1024).fill(fill)
    const cid = chunkCidOf(bytes)
    const ids = (members[0] as Member).store.holders(cid)
    return { bytes, cid, holders: ids.map((id) => members.find((m) => m.id === id) as Member) }
  }

  async function holdersOf(members: Member[], cid: string): Promise<string[]> {
    const found: string[] = []
    for (const member of members) if (await member.blobs.has(cid)) found.push(member.id)
    return found.sort()
  }

  async function everyHolderHas(members: Member[], cid: string, holders: readonly Member[]): Promise<void> {
    const expected = holders.map((holder) => holder.id).sort()
    await waitFor(
      'every holder has the chunk',
      async () => (await holdersOf(members, cid)).join() === expected.join(),
    )
  }

  it('sends the chunk with the record, once per node, and acknowledges with the chunk on a quorum of its holders', async () => {
    const members = await realm()
    const { bytes, cid, holders } = placed(members, 1)
    const entry = holders[0] as Member
    expect(await entry.store.put(bytes, { withVersion: true })).toEqual({ cid, size: 1024 })
    // Stored here, waiting for its record: no chunk push went out.
    expect(await holdersOf(members, cid)).toEqual([entry.id])
    const v = version(entry, 'a.bin', bytes)
    await entry.index.putVersion(v)
    // Acknowledged: a quorum of the chunk's holders has it (this node and one more, of three).
    const held = await holdersOf(members, cid)
    expect(held).toContain(entry.id)
    expect(held.filter((id) => holders.some((h) => h.id === id)).length).toBeGreaterThanOrEqual(2)
    await everyHolderHas(members, cid, holders)
    // Only the holders got the bytes; every node got the record.
    for (const member of members)
      await waitFor(`${member.id} has the record`, async () =>
        member.local.getCurrent('photos', 'a.bin').then(
          () => true,
          () => false,
        ),
      )
    expect(entry.sent.filter((id) => id.includes('push-chunk'))).toEqual([])
    expect(entry.sent.filter((id) => id.includes('data-versions')).sort()).toEqual([
      '/aruna/data-versions/1.0.0',
      '/aruna/data-versions/1.0.0',
      '/aruna/data-versions/1.0.0 +1 chunks',
      '/aruna/data-versions/1.0.0 +1 chunks',
    ])
  })

  it("fails the write when the chunk's holders refuse it, even though other nodes took the record", async () => {
    const members = await realm()
    const { bytes, cid, holders } = placed(members, 2)
    const entry = holders[0] as Member
    for (const holder of holders.slice(1)) holder.refuseChunks = true
    await entry.store.put(bytes, { withVersion: true })
    // The record's quorum (one other node) is met by the two nodes that do not hold the chunk.
    await expect(entry.index.putVersion(version(entry, 'b.bin', bytes))).rejects.toMatchObject({
      code: 'ServiceUnavailable',
    })
    expect(await holdersOf(members, cid)).toEqual([entry.id])
  })

  it("fails the write when the chunk's holders took it with a deferred commit that failed", async () => {
    const members = await realm()
    const { bytes, holders } = placed(members, 5)
    const entry = holders[0] as Member
    for (const holder of holders.slice(1)) holder.failCommits = true
    await entry.store.put(bytes, { withVersion: true })
    await expect(entry.index.putVersion(version(entry, 'c.bin', bytes))).rejects.toMatchObject({
      code: 'ServiceUnavailable',
    })
  })

  it('sends a chunk alone when its record never comes', async () => {
    const members = await realm({ riderTtlMs: 200 })
    const { bytes, cid, holders } = placed(members, 3)
    const entry = holders[0] as Member
    await entry.store.put(bytes, { withVersion: true })
    expect(entry.store.riders.size).toBe(1)
    await everyHolderHas(members, cid, holders)
    expect(entry.store.riders.size).toBe(0)
    expect(entry.sent.filter((id) => id.includes('push-chunk'))).toHaveLength(2)
  })

  it('puts a chunk the usual way when this node is not one of its holders, or without withVersion', async () => {
    const members = await realm()
    const { bytes, cid, holders } = placed(members, 4)
    const outsider = members.find((m) => !holders.includes(m)) as Member
    await outsider.store.put(bytes, { withVersion: true })
    expect(outsider.store.riders.size).toBe(0)
    expect(await holdersOf(members, cid)).not.toContain(outsider.id)
    const second = placed(members, 5)
    const entry = second.holders[0] as Member
    await entry.store.put(second.bytes)
    expect(entry.store.riders.size).toBe(0)
    expect((await holdersOf(members, second.cid)).length).toBeGreaterThanOrEqual(2)
  })

  it('refuses a push whose chunk bytes do not match their id, and stores neither', async () => {
    const members = await realm()
    const [a, b] = members as [Member, Member]
    const bytes = new Uint8Array(1024).fill(6)
    const v = version(a, 'c.bin', bytes)
    // Straight through the network: no node of this realm sends such a push.
    const network = hub!.node(a.id)
    const reply = await network.request(b.id, protocols.versionRecords, {
      kind: 'push',
      bucket: 'photos',
      versions: [v],
      chunks: [{ cid: v.manifest.chunks[0]!.cid, bytes: new Uint8Array(1024).fill(7) }],
    })
    expect(reply).toMatchObject({ kind: 'refused', code: 'InvalidRequest' })
    expect(await b.blobs.has(v.manifest.chunks[0]!.cid)).toBe(false)
    await expect(b.local.getCurrent('photos', 'c.bin')).rejects.toMatchObject({ code: 'NoSuchKey' })
  })
})
