/**
 * Data federation on the cluster harness (five nodes, real libp2p, replication factor 3): every chunk
 * lands on exactly three holders (checked on disk), every node serves GET, HEAD and LIST of every
 * object, reads go on when holders die, the factor comes back after the grace period, and a corrupt
 * copy is never served and is repaired. Every wait is for a condition, bounded.
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketCorsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, type ClusterNode, createCluster } from '../src/testing/cluster.js'
import { operatorClients } from './cluster-s3.js'
import { waitFor } from './wait-for.js'

const BUCKET = 'replicated'
const MIB = 1024 * 1024

describe('data replication across five nodes (RF 3, W 2)', () => {
  let cluster: Cluster
  const clients = new Map<number, S3Client>()
  const objects = new Map<string, Uint8Array>()

  const client = (node: ClusterNode): S3Client => {
    const found = clients.get(node.index)
    if (found === undefined) throw new Error(`no client for node ${node.index}`)
    return found
  }
  const running = (): ClusterNode[] => cluster.nodes.filter((node) => node.running)

  /** The chunk ids of an object, from a node's key index. */
  /** The chunk ids of an object, from node 0's key index once the object's record reached it. */
  const chunksOf = async (key: string): Promise<string[]> => {
    const data = cluster.node(0).node.data
    if (data === undefined) throw new Error('node 0 has no realm data')
    let cids: string[] = []
    await waitFor(`node 0 knows ${key}`, async () => {
      cids = (await data.index.getCurrent(BUCKET, key)).manifest.chunks.map((chunk) => chunk.cid)
      return true
    })
    return cids
  }
  /** The running nodes that hold `cid` in their own store. */
  const holdersOnDisk = async (cid: string): Promise<ClusterNode[]> => {
    const held: ClusterNode[] = []
    for (const node of running()) if (await node.node.data?.blobs.local.has(cid)) held.push(node)
    return held
  }
  const read = async (node: ClusterNode, key: string): Promise<Uint8Array> => {
    const answer = await client(node).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    return answer.Body?.transformToByteArray() ?? new Uint8Array()
  }
  const put = async (node: ClusterNode, key: string, size: number): Promise<Uint8Array> => {
    const body = randomBytes(size)
    await client(node).send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))
    objects.set(key, body)
    return body
  }

  beforeAll(async () => {
    cluster = await createCluster({
      nodes: 5,
      config: {
        'data.downAfterSeconds': 4,
        'data.repairIntervalSeconds': 1,
        'data.antiEntropySeconds': 2,
        'gc.intervalMinutes': 0,
      },
    })
    for (const [index, s3] of await operatorClients(cluster)) clients.set(index, s3)
    // Placement is computed by every node over the nodes it sees: wait until each sees all.
    await waitFor('every node is connected to every other', () =>
      cluster.nodes.every((node) => node.node.status().peers === 4),
    )
    await client(cluster.node(0)).send(new CreateBucketCommand({ Bucket: BUCKET }))
  }, 240_000)

  afterAll(async () => {
    for (const s3 of clients.values()) s3.destroy()
    await cluster?.stop()
  })

  it('puts every chunk on exactly three holders and serves the object from every node', async () => {
    // 9 MiB: three chunks, each placed on its own three holders; written through node 1.
    const body = await put(cluster.node(1), 'runs/one.bin', 9 * MIB)
    const cids = await chunksOf('runs/one.bin')
    expect(cids).toHaveLength(3)
    for (const cid of cids) {
      const holders = [...(cluster.node(0).node.data?.blobs.holders(cid) ?? [])].sort()
      expect(holders).toHaveLength(3)
      await waitFor(`chunk ${cid} is on exactly its three holders`, async () => {
        const onDisk = (await holdersOnDisk(cid)).map((node) => node.nodeId).sort()
        return onDisk.join() === holders.join()
      })
    }
    for (const node of cluster.nodes) {
      await waitFor(`node ${node.index} lists the object`, async () => {
        const listed = await client(node).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'runs/' }))
        return (listed.Contents ?? []).some((entry) => entry.Key === 'runs/one.bin')
      })
      const head = await client(node).send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/one.bin' }))
      expect(head.ContentLength).toBe(body.length)
      expect(Buffer.from(await read(node, 'runs/one.bin')).equals(body)).toBe(true)
    }
    // Some node holds none of the chunks and still served it (one hop).
    const holding = new Set<string>()
    for (const cid of cids) for (const node of await holdersOnDisk(cid)) holding.add(node.nodeId)
    expect(holding.size).toBeLessThanOrEqual(5)
  }, 120_000)

  it('serves a chunk through a node that does not hold it', async () => {
    const body = await put(cluster.node(2), 'small/one.txt', 1000)
    const [cid] = await chunksOf('small/one.txt')
    if (cid === undefined) throw new Error('no chunk')
    const placed = [...(cluster.node(0).node.data?.blobs.holders(cid) ?? [])].sort().join()
    await waitFor('the small object is on exactly its three holders', async () => {
      const onDisk = (await holdersOnDisk(cid)).map((node) => node.nodeId).sort()
      return onDisk.join() === placed
    })
    const holders = new Set((await holdersOnDisk(cid)).map((node) => node.index))
    const outsiders = cluster.nodes.filter((node) => !holders.has(node.index))
    expect(outsiders).toHaveLength(2)
    for (const node of outsiders) {
      await waitFor(`node ${node.index} knows the small object`, async () => {
        const head = await client(node).send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'small/one.txt' }))
        return head.ContentLength === 1000
      })
      expect(Buffer.from(await read(node, 'small/one.txt')).equals(body)).toBe(true)
      // Reading did not make it a holder.
      expect(await node.node.data?.blobs.local.has(cid)).toBe(false)
    }
  }, 60_000)

  it('never serves a corrupt copy, and scrub finds and replaces one', async () => {
    // Larger than data.smallChunkBytes (64 KiB): the chunk is a file, which the test damages.
    const body = await put(cluster.node(0), 'scrub/a.bin', 96 * 1024)
    const [cid] = await chunksOf('scrub/a.bin')
    if (cid === undefined) throw new Error('no chunk')
    await waitFor('the object is on three nodes', async () => (await holdersOnDisk(cid)).length === 3)
    const [victim] = await holdersOnDisk(cid)
    if (victim === undefined) throw new Error('no holder')
    const file = join(victim.dataDir, 'chunks', 'chunks', cid.slice(-3, -1), cid)
    const damaged = Buffer.from(await readFile(file))
    damaged[100] = (damaged[100] ?? 0) ^ 0xff
    await writeFile(file, damaged)

    // A read through the damaged holder gets the good bytes, from another holder.
    expect(Buffer.from(await read(victim, 'scrub/a.bin')).equals(body)).toBe(true)
    await waitFor('read-repair restored the good copy', async () => {
      const local = victim.node.data?.blobs.local
      return local !== undefined && (await local.has(cid)) && Buffer.from(await local.get(cid)).equals(body)
    })

    // Damage it again: this time the scrub finds it.
    const again = Buffer.from(await readFile(file))
    again[7] = (again[7] ?? 0) ^ 0x01
    await writeFile(file, again)
    const upkeep = victim.node.data?.upkeep
    if (upkeep === undefined) throw new Error('no upkeep')
    const before = { ...upkeep.health }
    await upkeep.scrub()
    expect(upkeep.health.corruptFound).toBe(before.corruptFound + 1)
    expect(upkeep.health.corruptRepaired).toBe(before.corruptRepaired + 1)
    expect(Buffer.from((await victim.node.data?.blobs.local.get(cid)) ?? new Uint8Array()).equals(body)).toBe(
      true,
    )
  }, 60_000)

  it('moves copies when an administrator changes the realm’s data factor', async () => {
    const cids = await chunksOf('runs/one.bin')
    const setFactor = async (data: number) => {
      const answer = await cluster
        .node(0)
        .rest<{ config: { replication: { default: { data: number } } } }>('PATCH', '/v1/config', {
          replication: { default: { data } },
        })
      expect(answer.status).toBe(200)
      expect(answer.body.config.replication.default.data).toBe(data)
    }
    await setFactor(2)
    for (const cid of cids)
      await waitFor(
        `chunk ${cid} is on exactly two nodes`,
        async () => (await holdersOnDisk(cid)).length === 2,
      )
    expect(
      Buffer.from(await read(cluster.node(4), 'runs/one.bin')).equals(
        objects.get('runs/one.bin') as Uint8Array,
      ),
    ).toBe(true)
    await setFactor(3)
    for (const cid of cids)
      await waitFor(
        `chunk ${cid} is on three nodes again`,
        async () => (await holdersOnDisk(cid)).length === 3,
      )
    await waitFor('every node reports factor 3 again', () =>
      cluster.nodes.every((node) => node.node.status().data?.replicationFactor === 3),
    )
  }, 120_000)

  it('replicates bucket settings and deletions to every node, and a deleted bucket does not come back', async () => {
    const [a, b, c] = [cluster.node(0), cluster.node(1), cluster.node(2)]
    await client(a).send(new CreateBucketCommand({ Bucket: 'settings' }))
    await client(b).send(
      new PutBucketVersioningCommand({ Bucket: 'settings', VersioningConfiguration: { Status: 'Enabled' } }),
    )
    await client(c).send(
      new PutBucketCorsCommand({
        Bucket: 'settings',
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: ['https://portal.example.org'], AllowedMethods: ['GET'] }],
        },
      }),
    )
    for (const node of cluster.nodes) {
      await waitFor(`node ${node.index} has the bucket's versioning and CORS`, async () => {
        const versioning = await client(node).send(new GetBucketVersioningCommand({ Bucket: 'settings' }))
        const cors = await client(node).send(new GetBucketCorsCommand({ Bucket: 'settings' }))
        return (
          versioning.Status === 'Enabled' &&
          cors.CORSRules?.[0]?.AllowedOrigins?.[0] === 'https://portal.example.org'
        )
      })
    }
    await client(cluster.node(3)).send(new DeleteBucketCommand({ Bucket: 'settings' }))
    for (const node of cluster.nodes)
      await waitFor(`node ${node.index} no longer has the bucket`, async () => {
        try {
          await client(node).send(new HeadBucketCommand({ Bucket: 'settings' }))
          return false
        } catch (err) {
          return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
        }
      })
    // Anti-entropy rounds run every 2 s: two more rounds must not bring it back anywhere.
    const rounds = cluster.nodes.map((node) => node.node.data?.index.counters.antiEntropyRounds ?? 0)
    await waitFor('two more anti-entropy rounds on every node', () =>
      cluster.nodes.every(
        (node, i) => (node.node.data?.index.counters.antiEntropyRounds ?? 0) >= (rounds[i] ?? 0) + 2,
      ),
    )
    for (const node of cluster.nodes)
      expect(await node.node.data?.index.listBuckets()).not.toContainEqual(
        expect.objectContaining({ name: 'settings' }),
      )
    // The name can be used again: a new bucket.
    await client(b).send(new CreateBucketCommand({ Bucket: 'settings' }))
    await waitFor('node 4 has the new bucket', async () => {
      await client(cluster.node(4)).send(new HeadBucketCommand({ Bucket: 'settings' }))
      return true
    })
  }, 120_000)

  it('keeps serving with a holder killed and restores three copies after the grace period', async () => {
    const body = await put(cluster.node(0), 'heal/x.bin', 200 * 1024)
    const [cid] = await chunksOf('heal/x.bin')
    if (cid === undefined) throw new Error('no chunk')
    await waitFor('the object is on three nodes', async () => (await holdersOnDisk(cid)).length === 3)
    // Kill a holder other than node 0 (it made the realm; the test reads its index).
    const victim = (await holdersOnDisk(cid)).find((node) => node.index !== 0)
    if (victim === undefined) throw new Error('no holder but node 0')
    await victim.kill()
    for (const node of running())
      expect(
        Buffer.from(await read(node, 'heal/x.bin')).equals(body),
        `read through node ${node.index}`,
      ).toBe(true)
    // After the grace period another node becomes a holder and gets a copy.
    await waitFor(
      'three running nodes hold the chunk again',
      async () => (await holdersOnDisk(cid)).length === 3,
      60_000,
    )
    // Every object written so far is still readable everywhere.
    for (const [key, bytes] of objects)
      for (const node of running())
        expect(Buffer.from(await read(node, key)).equals(bytes), `${key} on ${node.index}`).toBe(true)
  }, 120_000)

  it('keeps an acknowledged object readable when two of its three holders die', async () => {
    const body = await put(cluster.node(0), 'quorum/y.bin', 300 * 1024)
    const [cid] = await chunksOf('quorum/y.bin')
    if (cid === undefined) throw new Error('no chunk')
    await waitFor('the object is on three nodes', async () => (await holdersOnDisk(cid)).length === 3)
    const doomed = (await holdersOnDisk(cid)).filter((node) => node.index !== 0).slice(0, 2)
    expect(doomed).toHaveLength(2)
    for (const node of doomed) await node.kill()
    for (const node of running())
      expect(
        Buffer.from(await read(node, 'quorum/y.bin')).equals(body),
        `read through node ${node.index}`,
      ).toBe(true)
  }, 120_000)
})
