/**
 * The realm's key index on the in-memory network: a miss asks the connected nodes for the key's records
 * before answering, also for a key of the longest length (whose range end is one byte longer than a key).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ContentVersion,
  HybridLogicalClock,
  MAX_KEY_BYTES,
  MemoryObjectIndex,
  replicationProtocols,
} from '@aruna/data'
import { createMemoryNetwork, defineProtocol, messageCodec } from '@aruna/network'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BucketTombstones } from '../src/federation/bucket-tombstones.js'
import { RealmNodes } from '../src/federation/realm-nodes.js'
import { RealmObjectIndex } from '../src/federation/realm-object-index.js'
import { createLogger } from '../src/logger.js'
import { waitFor } from './wait-for.js'

const logger = createLogger({ level: 'silent', format: 'json' })
const protocols = replicationProtocols({ defineProtocol, messageCodec })
const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'

interface Member {
  readonly local: MemoryObjectIndex
  readonly index: RealmObjectIndex
  readonly clock: HybridLogicalClock
  readonly stop: () => void
}

describe('the realm key index, on a miss', () => {
  let dir: string
  let members: Member[]
  let stopAll: () => Promise<void>

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-realm-index-'))
    const hub = createMemoryNetwork()
    const networks = [0, 1].map((i) => hub.createNode({ peerId: `node-${i}` }))
    const ids = networks.map((network) => network.peerId)
    members = []
    for (const [i, network] of networks.entries()) {
      const local = new MemoryObjectIndex()
      const clock = new HybridLogicalClock(network.peerId)
      const nodes = new RealmNodes({
        network,
        listNodes: async () => ids,
        dataFactor: async () => 2,
        downAfterMs: 60_000,
        logger,
      })
      await nodes.start()
      const index = new RealmObjectIndex({
        local,
        network,
        protocols,
        nodes,
        tombstones: await BucketTombstones.open(join(dir, `tombstones-${i}.json`)),
        clock,
        createBucketAt: (name, options) => local.createBucket(name, options),
        writeQuorum: 'majority',
        factor: 2,
        // Rounds run only when a test asks for them.
        antiEntropyMs: 3_600_000,
        logger,
      })
      members.push({ local, index, clock, stop: index.serve() })
    }
    await Promise.all(networks.map((network) => network.start()))
    await waitFor('the nodes see each other', () => networks.every((network) => network.peers().length === 1))
    stopAll = async () => {
      for (const member of members) member.stop()
      await hub.stopAll()
    }
  })

  afterEach(async () => {
    await stopAll()
    await rm(dir, { recursive: true, force: true })
  })

  it.each([
    ['a short key', 'k'],
    ['a key of the longest length', 'k'.repeat(MAX_KEY_BYTES)],
  ])('reads %s through from a node that has its record', async (_, key) => {
    const [a, b] = members as [Member, Member]
    await a.index.createBucket('photos', { group: GROUP })
    await waitFor(
      'the bucket is on both nodes',
      async () =>
        await b.local.getBucket('photos').then(
          () => true,
          () => false,
        ),
    )
    // Only on node 0, as if its push to node 1 had been lost.
    const version: ContentVersion = {
      bucket: 'photos',
      key,
      versionId: a.clock.next(),
      createdAt: new Date().toISOString(),
      manifest: {
        chunks: [],
        size: 0,
        contentType: 'application/octet-stream',
        userMetadata: {},
        checksums: { md5: 'd41d8cd98f00b204e9800998ecf8427e' },
        etag: '"d41d8cd98f00b204e9800998ecf8427e"',
      },
    }
    await a.local.putVersion(version)
    await expect(b.local.getCurrent('photos', key)).rejects.toMatchObject({ code: 'NoSuchKey' })
    expect((await b.index.getCurrent('photos', key)).versionId).toBe(version.versionId)
    expect((await b.local.getCurrent('photos', key)).versionId).toBe(version.versionId)
  })
})
