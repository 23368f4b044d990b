/**
 * Data federation under faults on the cluster harness (five nodes, real libp2p, RF 3, W 2): a node
 * killed in the middle of 500 writes loses no acknowledged object; a 2|3 partition during writes, once
 * healed, leaves every node's key index identical and every acknowledged write readable everywhere.
 * Writes the realm cannot take answer 503, which clients retry. Every wait is for a condition, bounded.
 */
import { randomBytes } from 'node:crypto'
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, type ClusterNode, createCluster } from '../src/testing/cluster.js'
import { waitFor } from './wait-for.js'

describe('data federation under faults (five nodes, RF 3, W 2)', () => {
  let cluster: Cluster
  let credentials: { accessKeyId: string; secretAccessKey: string }
  const clients = new Map<number, S3Client>()

  const client = (node: ClusterNode): S3Client => {
    let found = clients.get(node.index)
    if (found === undefined) {
      // No SDK retries: the test counts what the realm refused.
      found = new S3Client({
        endpoint: node.s3Url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials,
        maxAttempts: 1,
      })
      clients.set(node.index, found)
    }
    return found
  }
  const running = (): ClusterNode[] => cluster.nodes.filter((node) => node.running)
  const read = async (node: ClusterNode, bucket: string, key: string): Promise<Buffer> => {
    const answer = await client(node).send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    return Buffer.from((await answer.Body?.transformToByteArray()) ?? new Uint8Array())
  }
  /** Puts `key`; true when acknowledged, false when refused with 503 (anything else fails the test). */
  const tryPut = async (
    node: ClusterNode,
    bucket: string,
    key: string,
    body: Uint8Array,
  ): Promise<boolean> => {
    try {
      await client(node).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
      return true
    } catch (err) {
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 503) return false
      throw err
    }
  }
  const digestsOf = async (bucket: string): Promise<string[]> =>
    Promise.all(
      running().map(async (node) => {
        const digest = await node.node.data?.index.digestRange(bucket)
        return `${digest?.count}:${digest?.purges}:${digest?.digest}`
      }),
    )

  beforeAll(async () => {
    cluster = await createCluster({
      nodes: 5,
      config: {
        'data.downAfterSeconds': 4,
        'data.repairIntervalSeconds': 1,
        'data.antiEntropySeconds': 1,
        'gc.intervalMinutes': 0,
      },
    })
    const key = await cluster
      .node(0)
      .rest<{ accessKeyId: string; secretAccessKey: string }>('POST', '/v1/keys', {})
    expect(key.status).toBe(201)
    credentials = key.body
    await client(cluster.node(0)).send(new CreateBucketCommand({ Bucket: 'load' }))
    await client(cluster.node(0)).send(new CreateBucketCommand({ Bucket: 'split' }))
    for (const node of cluster.nodes)
      await waitFor(`node ${node.index} knows the buckets and the key`, async () => {
        const buckets = (await node.node.data?.index.listBuckets()) ?? []
        return buckets.length === 2
      })
  }, 240_000)

  afterAll(async () => {
    for (const s3 of clients.values()) s3.destroy()
    await cluster?.stop()
  })

  it('loses no acknowledged object of 500 when a node is killed midway', async () => {
    const acknowledged = new Map<string, Buffer>()
    let refused = 0
    let next = 0
    const writers = [cluster.node(0), cluster.node(1), cluster.node(2), cluster.node(0)]
    const victim = cluster.node(4)
    await Promise.all(
      writers.map(async (node) => {
        for (;;) {
          const n = next++
          if (n >= 500) return
          if (n === 250) await victim.kill()
          const body = randomBytes(512 + (n % 7) * 1000)
          if (await tryPut(node, 'load', `obj/${String(n).padStart(4, '0')}`, body))
            acknowledged.set(`obj/${String(n).padStart(4, '0')}`, body)
          else refused++
        }
      }),
    )
    // Most writes went through; a refusal is a 503 a client retries, never a lost write.
    expect(acknowledged.size).toBeGreaterThan(400)
    expect(acknowledged.size + refused).toBe(500)
    for (const node of running()) {
      await waitFor(`node ${node.index} has every acknowledged record`, async () => {
        const digest = await node.node.data?.index.digestRange('load')
        return (digest?.count ?? 0) >= acknowledged.size
      })
      for (const [key, body] of acknowledged)
        expect((await read(node, 'load', key)).equals(body), `${key} on node ${node.index}`).toBe(true)
    }
    await waitFor(
      'every running node has the same key index',
      async () => new Set(await digestsOf('load')).size === 1,
    )
    // The killed node comes back having missed half the writes: the moment it is connected again it
    // serves every acknowledged object (reads pull what it lacks while it catches up).
    await victim.restart()
    await waitFor('the restarted node is connected', () => (victim.node.status().peers ?? 0) > 0)
    for (const [key, body] of acknowledged)
      expect((await read(victim, 'load', key)).equals(body), `${key} on the restarted node`).toBe(true)
  }, 240_000)

  it('converges after a 2|3 partition during writes, with every acknowledged write present', async () => {
    await waitFor('all five nodes are connected again', () =>
      cluster.nodes.every((node) => node.running && node.node.status().peers === 4),
    )
    cluster.partition([0, 1], [2, 3, 4])
    await waitFor('the sides no longer see each other', () => cluster.node(0).node.status().peers === 1)
    const acknowledged = new Map<string, Buffer>()
    let refused = 0
    for (let n = 0; n < 40; n++) {
      const side = n % 2 === 0 ? cluster.node(0) : cluster.node(3)
      const key = `side-${side.index}/${n}`
      const body = randomBytes(2048)
      if (await tryPut(side, 'split', key, body)) acknowledged.set(key, body)
      else refused++
    }
    // The majority side takes every write (nodes in reach stand in for holders out of reach); the
    // minority side takes what two nodes can hold.
    const majority = [...acknowledged.keys()].filter((key) => key.startsWith('side-3/'))
    expect(majority).toHaveLength(20)
    // Each side serves what it holds.
    for (const key of majority)
      expect((await read(cluster.node(2), 'split', key)).equals(acknowledged.get(key) as Buffer)).toBe(true)

    cluster.heal()
    await waitFor('all five nodes are connected again', () =>
      cluster.nodes.every((node) => node.node.status().peers === 4),
    )
    await waitFor(
      'every key index is identical after healing',
      async () => new Set(await digestsOf('split')).size === 1,
      60_000,
    )
    for (const node of running())
      for (const [key, body] of acknowledged)
        expect((await read(node, 'split', key)).equals(body), `${key} on node ${node.index}`).toBe(true)
    expect(acknowledged.size + refused).toBe(40)
    // Stand-ins hand their copies to the holders and drop them: every chunk ends on exactly three nodes.
    const index = cluster.node(0).node.data?.index
    for (const key of acknowledged.keys()) {
      const [cid] = (await index?.getCurrent('split', key))?.manifest.chunks.map((chunk) => chunk.cid) ?? []
      if (cid === undefined) throw new Error(`no chunk for ${key}`)
      await waitFor(`the chunk of ${key} is on exactly three nodes`, async () => {
        let copies = 0
        for (const node of running()) if (await node.node.data?.blobs.local.has(cid)) copies++
        return copies === 3
      })
    }
  }, 240_000)
})
