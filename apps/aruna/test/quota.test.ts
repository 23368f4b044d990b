/**
 * Storage quotas on the cluster harness (three nodes, real libp2p): a group with a 10 MiB quota and
 * 10% grace takes uploads through any node until quota plus grace and then refuses them on every node
 * with S3's 403 QuotaExceeded naming the group; concurrent uploads through two nodes overshoot by at
 * most one object per writer; deletes give the space back; usage is the same on every node and equals a
 * recount of the key index. Every wait is for a condition, bounded.
 */
import { randomBytes } from 'node:crypto'
import { DeleteObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GroupUsage } from '../src/federation/group-usage.js'
import { type Cluster, type ClusterNode, createCluster } from '../src/testing/cluster.js'
import { aruna } from './cli-run.js'
import { waitFor } from './wait-for.js'

const MIB = 1024 * 1024
const QUOTA = 10 * MIB
const LIMIT = QUOTA * 1.1

interface Usage {
  group: string
  bytes: number
  objects: number
  quotaBytes?: number
  warning: boolean
}

describe('storage quotas on three nodes', () => {
  let cluster: Cluster
  let group: string
  const clients = new Map<number, S3Client>()
  const client = (node: ClusterNode): S3Client => clients.get(node.index) as S3Client

  const usageOn = async (node: ClusterNode): Promise<Usage> => {
    const answer = await node.rest<{ groups: Usage[] }>('GET', `/v1/usage?group=${group}`)
    expect(answer.status).toBe(200)
    return answer.body.groups[0] as Usage
  }
  /** Puts 1 MiB; the S3 error code when refused. */
  const put = async (node: ClusterNode, key: string): Promise<string | undefined> => {
    try {
      await client(node).send(new PutObjectCommand({ Bucket: 'capped', Key: key, Body: randomBytes(MIB) }))
      return undefined
    } catch (err) {
      if (err instanceof S3ServiceException)
        return `${err.$metadata.httpStatusCode} ${err.name}: ${err.message}`
      throw err
    }
  }
  const settle = async (bytes: number) => {
    for (const node of cluster.nodes)
      await waitFor(
        `node ${node.index} counts ${bytes} bytes`,
        async () => (await usageOn(node)).bytes === bytes,
      )
  }

  beforeAll(async () => {
    cluster = await createCluster({ nodes: 3, config: { 'gc.intervalMinutes': 0 } })
    const a = cluster.node(0)
    const made = await a.rest<{ id: string }>('POST', '/v1/groups', { name: 'capped-lab' })
    expect(made.status).toBe(201)
    group = made.body.id
    // Set through the command line, as an administrator would.
    const set = await aruna([
      'quota',
      'set',
      '--group',
      group,
      '--bytes',
      '10MiB',
      '--grace',
      '10',
      '--warn',
      '80',
      '--json',
      '--url',
      a.restUrl,
      '--token',
      await a.token(),
    ])
    expect(set.err).toBe('')
    expect(set.code).toBe(0)
    expect(JSON.parse(set.out).quota).toMatchObject({
      groups: { [group]: { bytes: QUOTA } },
      gracePercent: 10,
      warnPercent: 80,
    })
    expect((await a.rest('POST', '/v1/buckets', { name: 'capped', group })).status).toBe(201)
    const key = await a.rest<{ accessKeyId: string; secretAccessKey: string }>('POST', '/v1/keys', {})
    for (const node of cluster.nodes) {
      clients.set(
        node.index,
        new S3Client({
          endpoint: node.s3Url,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: key.body,
          maxAttempts: 1,
        }),
      )
      await waitFor(`node ${node.index} knows the quota and the bucket`, async () => {
        const config = await node.rest<{ config: { quota: { groups: Record<string, { bytes?: number }> } } }>(
          'GET',
          '/v1/config',
        )
        return (
          config.body.config.quota.groups[group]?.bytes === QUOTA &&
          (await usageOn(node)).quotaBytes === QUOTA
        )
      })
    }
  }, 240_000)

  afterAll(async () => {
    for (const s3 of clients.values()) s3.destroy()
    await cluster?.stop()
  })

  it('stops uploads through any node at the quota plus grace, with a clear error on every node', async () => {
    let accepted = 0
    for (let n = 0; n < 20; n++) {
      const refusal = await put(cluster.node(n % 3), `seq/${n}`)
      if (refusal !== undefined) {
        expect(refusal).toMatch(/^403 QuotaExceeded: .*capped-lab.*quota of 10485760 bytes \(\+10% grace\)/)
        break
      }
      accepted++
      await settle(accepted * MIB)
    }
    // 11 MiB is exactly quota plus grace.
    expect(accepted).toBe(11)
    for (const node of cluster.nodes) {
      expect(await put(node, `more/${node.index}`)).toMatch(/^403 QuotaExceeded/)
      const usage = await usageOn(node)
      expect(usage).toMatchObject({ bytes: 11 * MIB, objects: 11, quotaBytes: QUOTA, warning: true })
    }
  }, 120_000)

  it('gives the space back on delete, and bounds the overshoot of concurrent uploads through two nodes', async () => {
    for (let n = 0; n < 11; n++)
      await client(cluster.node(n % 3)).send(new DeleteObjectCommand({ Bucket: 'capped', Key: `seq/${n}` }))
    await settle(0)
    expect(await put(cluster.node(2), 'after-delete')).toBeUndefined()
    await client(cluster.node(2)).send(new DeleteObjectCommand({ Bucket: 'capped', Key: 'after-delete' }))
    await settle(0)

    // Two writers at once, each until refused: each checks the usage it knows, so together they can
    // pass the limit by at most the objects in flight, one per writer.
    const writers = [cluster.node(0), cluster.node(1)]
    const accepted = await Promise.all(
      writers.map(async (node) => {
        let n = 0
        while ((await put(node, `par/${node.index}/${n}`)) === undefined) n++
        return n
      }),
    )
    const total = (accepted[0] ?? 0) + (accepted[1] ?? 0)
    expect(total * MIB).toBeGreaterThanOrEqual(QUOTA)
    expect(total * MIB).toBeLessThanOrEqual(LIMIT + writers.length * MIB)
    await settle(total * MIB)
  }, 120_000)

  it('counts the same on every node, equal to a recount of the key index', async () => {
    const figures = await Promise.all(cluster.nodes.map((node) => usageOn(node)))
    for (const usage of figures)
      expect({ bytes: usage.bytes, objects: usage.objects }).toEqual({
        bytes: figures[0]?.bytes,
        objects: figures[0]?.objects,
      })
    for (const node of cluster.nodes) {
      const index = node.node.data?.index
      if (index === undefined) throw new Error('no index')
      const recount = new GroupUsage()
      await recount.recount(index)
      expect(recount.ofGroup(group)).toEqual({ bytes: figures[0]?.bytes, objects: figures[0]?.objects })
    }
  }, 60_000)

  it('shows quotas and usage on the command line, in aruna status and in /metrics, and removes a quota', async () => {
    const b = cluster.node(1)
    const flags = ['--url', b.restUrl, '--token', await b.token()]
    const show = await aruna(['quota', 'show', ...flags])
    expect(show.code).toBe(0)
    expect(show.out).toContain('grace 10%, warning at 80%')
    expect(show.out).toMatch(
      new RegExp(`${group}  [\\d.]+ MiB in \\d+ object versions \\(\\d+%\\), quota 10 MiB`),
    )
    const status = await aruna(['status', ...flags])
    expect(status.err).toBe('')
    expect(status.out).toContain('storage per group:\n')
    expect(status.out).toMatch(
      new RegExp(`\\n  ${group}  [\\d.]+ MiB in \\d+ object versions .*quota 10 MiB`),
    )
    const metrics = await (await fetch(`${b.restUrl}/metrics`)).text()
    expect(metrics).toMatch(new RegExp(`aruna_group_quota_bytes\\{group="${group}"\\} ${QUOTA}`))
    expect(metrics).toMatch(new RegExp(`aruna_group_usage_bytes\\{group="${group}"\\} \\d+`))
    expect((await aruna(['quota', 'set', '--bytes', '1MiB', ...flags])).err).toContain('name it with --group')
    expect((await aruna(['quota', 'set', '--group', group, '--bytes', 'lots', ...flags])).err).toContain(
      '"lots" is not a size',
    )
    expect((await aruna(['quota', 'set', ...flags])).err).toContain('nothing to set')
    expect((await aruna(['quota', 'unset', ...flags])).err).toContain('nothing to remove')
    expect((await aruna(['quota', 'set', '--group', group, ...flags])).err).toContain(
      '--group needs --bytes or --objects',
    )
    expect((await aruna(['quota', 'set', '--grace', '101', ...flags])).err).toContain(
      '--grace must be a whole number from 0 to 100',
    )
    const defaults = await aruna([
      'quota',
      'set',
      '--default-bytes',
      '1TiB',
      '--default-objects',
      '1000000',
      '--max-groups-per-user',
      '20',
      ...flags,
    ])
    expect(defaults.code).toBe(0)
    expect(defaults.out).toContain(
      'default per group: 1 TiB, 1000000 objects; grace 10%, warning at 80%; at most 20 groups per user',
    )
    const cleared = await aruna([
      'quota',
      'unset',
      '--default-bytes',
      '--default-objects',
      '--max-groups-per-user',
      '--json',
      ...flags,
    ])
    expect(JSON.parse(cleared.out).quota).toMatchObject({ defaultGroup: {} })
    expect(JSON.parse(cleared.out).quota.maxGroupsPerUser).toBeUndefined()
    const unset = await aruna(['quota', 'unset', '--group', group, '--json', ...flags])
    expect(unset.code).toBe(0)
    expect(JSON.parse(unset.out).quota.groups[group]).toBeUndefined()
    await waitFor(
      'node 2 no longer limits the group',
      async () => (await usageOn(cluster.node(2))).quotaBytes === undefined,
    )
    expect(await put(cluster.node(2), 'unlimited/0')).toBeUndefined()
  }, 120_000)
})
