/**
 * The federated node's acceptance, on the cluster harness: complete nodes in this process, real
 * libp2p on loopback, joined by an invite chain. Every wait is for a condition, bounded.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRealmKey } from '@aruna/auth'
import {
  bytesCodec,
  createLibp2pNetwork,
  createPeerKey,
  defineProtocol,
  peerIdOf,
  type RealmCredentials,
} from '@aruna/network'
import { delegatePeer } from '@aruna/orga'
import { CreateBucketCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeInvite } from '../src/realm/invite.js'
import { joinRealm } from '../src/realm/join.js'
import { type Cluster, type ClusterNode, createCluster } from '../src/testing/cluster.js'
import { parseExposition, sampleSum } from './prometheus.js'
import { waitFor } from './wait-for.js'

/** A protocol nobody serves: calling it makes an intruder go through the realm handshake. */
const PROBE = defineProtocol({ id: '/aruna/probe/1.0.0', request: bytesCodec, response: bytesCodec })

interface ChangeEvent {
  type: string
  resourceId: string
  group: string
  origin: string
}

/** Subscribes to a node's server-sent events; `seen` fills as they arrive, `close` ends the stream. */
async function subscribe(node: ClusterNode, path: string): Promise<{ seen: ChangeEvent[]; close(): void }> {
  const abort = new AbortController()
  const response = await fetch(`${node.restUrl}${path}`, {
    headers: { authorization: `Bearer ${await node.token()}` },
    signal: abort.signal,
  })
  expect(response.status).toBe(200)
  const seen: ChangeEvent[] = []
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  void (async () => {
    for (;;) {
      const read = await reader.read()
      if (read.done) return
      buffer += decoder.decode(read.value, { stream: true })
      for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, at))?.[1]
        buffer = buffer.slice(at + 2)
        if (data !== undefined && data !== '{}') seen.push(JSON.parse(data) as ChangeEvent)
      }
    }
  })().catch(() => {})
  return { seen, close: () => abort.abort() }
}

async function s3Code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (err) {
    if (err instanceof S3ServiceException) return err.name
    throw err
  }
}

describe('a realm of five nodes joined by an invite chain', () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await createCluster({ nodes: 5 })
  }, 120_000)

  afterAll(async () => {
    await cluster?.stop()
  }, 60_000)

  it('has every node see every other as a live member', async () => {
    const ids = cluster.nodes.map((n) => n.nodeId)
    expect(new Set(ids).size).toBe(5)
    for (const node of cluster.nodes) {
      await waitFor(
        `node ${node.index} sees all five live`,
        () => node.node.federation?.membership.liveNodes().length === 5,
      ).catch((err) => {
        for (const n of cluster.nodes)
          console.error(
            n.index,
            n.nodeId.slice(-6),
            'live',
            n.node.federation?.membership.liveNodes().map((p) => p.slice(-6)),
            'peers',
            n.node.federation?.network.peers().map((p) => p.slice(-6)),
          )
        throw err
      })
    }
    const listed = await cluster
      .node(3)
      .rest<{ nodes: { id: string; live: boolean; kind: string }[] }>('GET', '/v1/nodes')
    expect(listed.status).toBe(200)
    expect(listed.body.nodes.map((n) => n.id).sort()).toEqual([...ids].sort())
    expect(listed.body.nodes.filter((n) => n.kind === 'management').map((n) => n.id)).toEqual([ids[0]])
  })

  it('uses one identity: the peer id is the node id in /health, the node list and the delegation', async () => {
    const node = cluster.node(2)
    const health = (await (await fetch(`${node.restUrl}/health`)).json()) as {
      nodeId: string
      realmId: string
      peers: number
    }
    expect(health.nodeId).toBe(node.nodeId)
    expect(health.nodeId).toMatch(/^12D3KooW/)
    expect(health.realmId).toBe(cluster.node(0).node.realm?.realmId)
    expect(health.peers).toBeGreaterThanOrEqual(1)
  })

  it('refuses a used invite and an expired one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aruna-join-'))
    try {
      const invite = await cluster.invite(1)
      await joinRealm({ dataDir: join(dir, 'a'), invite })
      await expect(joinRealm({ dataDir: join(dir, 'b'), invite })).rejects.toMatchObject({
        code: 'InviteUsed',
      })

      const store = cluster.node(0).node.federation?.store
      const realm = cluster.node(0).node.realm
      if (!store || !realm) throw new Error('node 0 is not running')
      const short = await store.createInvite({ ttlMs: 1 })
      await new Promise((resolve) => setTimeout(resolve, 5))
      const expired = encodeInvite({
        realm: realm.realmId,
        realmName: realm.realmName,
        secret: short.secret,
        expiresAt: Date.now() + 60_000, // the line claims more time than the realm gave it
        bootstrap: cluster.node(0).node.federation?.network.multiaddrs ?? [],
        operator: realm.operator,
      })
      await expect(joinRealm({ dataDir: join(dir, 'c'), invite: expired })).rejects.toMatchObject({
        code: 'InviteExpired',
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a node with a forged delegation or one signed by a foreign realm key, even when listed, and a node of another realm', async () => {
    const target = cluster.node(0)
    const store = target.node.federation?.store
    const realmId = target.node.realm?.realmId ?? ''
    if (!store) throw new Error('node 0 is not running')
    const exp = Math.floor(Date.now() / 1000) + 3600
    const forgedKey = await createPeerKey()
    const wrongSignerKey = await createPeerKey()
    const strangerKey = await createPeerKey()
    const garbage = 'eyJhbGciOiJFZERTQSJ9.eyJmb3JnZWQiOnRydWV9.c2ln'
    // Well formed, of the intruder's own key, for this realm's id — but signed by another realm's key.
    const wrongSigned = delegatePeer(createRealmKey().privateKey, peerIdOf(wrongSignerKey), exp)
    const cases = [
      { key: forgedKey, realm: realmId, proof: garbage },
      { key: wrongSignerKey, realm: realmId, proof: wrongSigned },
      { key: strangerKey, realm: 'another-realm', proof: 'x' },
    ]
    // The first two are even in the node list: only the delegation check can keep them out.
    for (const { key, proof } of cases.slice(0, 2)) {
      await store.addNode({ peerId: peerIdOf(key), kind: 'server', delegation: proof, addresses: [] })
    }
    for (const { key, realm, proof } of cases) {
      const credentials: RealmCredentials = {
        realmId: realm,
        proof: () => new TextEncoder().encode(proof),
        verify: () => true,
      }
      const intruder = await createLibp2pNetwork({
        privateKey: key,
        credentials,
        transports: ['tcp'],
        bootstrap: (target.node.federation?.network.multiaddrs ?? []).filter((a) => a.includes('/tcp/')),
        livenessTimeoutMs: 1500,
        isMember: () => true,
      })
      await intruder.start()
      try {
        // The intruder dials and greets the target, and the target refuses it in the handshake.
        const answer = await intruder
          .request(target.nodeId, PROBE, new Uint8Array(1), { timeoutMs: 5000 })
          .catch((err: unknown) => err)
        expect(answer).toMatchObject({
          code: 'NotMember',
          message: expect.stringContaining('refuses this node'),
        })
        expect(intruder.peers()).toEqual([])
        for (const node of cluster.nodes) {
          expect(node.node.federation?.network.peers()).not.toContain(intruder.peerId)
        }
      } finally {
        await intruder.stop()
      }
    }
    for (const { key } of cases.slice(0, 2)) await store.removeNode(peerIdOf(key))
  })

  it('lets a role granted on node A work on node D with an access key and a realm token, and stops it on every node within 5 s of a revocation on B', async () => {
    const a = cluster.node(0)
    const b = cluster.node(1)
    const d = cluster.node(3)
    const store = a.node.federation?.store
    const realmId = a.node.realm?.realmId ?? ''
    if (!store) throw new Error('node A is not running')
    // A user as their first OIDC login makes them, in a group of their own.
    const { user } = await store.registerUser({
      issuer: 'https://login.example.org',
      subject: 'carol',
      displayName: 'Carol',
    })
    const group = await store.createGroup({ name: 'carol-lab' })
    await store.addMember(group.id, user.id)
    const key = await a.rest<{ accessKeyId: string; secretAccessKey: string }>('POST', '/v1/keys', {
      user: user.id,
      description: 'carol',
    })
    expect(key.status).toBe(201)
    const token = await d.node.mintToken(user.id)

    // Before any role: nothing.
    await waitFor(
      'node D knows the user and her key',
      async () => (await d.rest('GET', '/v1/me', undefined, token)).status === 200,
    )
    expect((await d.rest('GET', '/v1/nodes', undefined, token)).status).toBe(403)
    const s3 = await d.s3Client(key.body)
    // The key (realm document), the user and her group (their own documents) reach D in any order:
    // until all three are there D says InvalidAccessKeyId or names no group; then it must deny.
    await waitFor(
      'node D knows the key and the group, and denies',
      async () =>
        (await s3Code(s3.send(new CreateBucketCommand({ Bucket: 'carol-early' })))) === 'AccessDenied',
    )

    // Granted on A: works on D once synced.
    const role = await store.createRole({
      name: 'carol-access',
      rules: [
        { pattern: `/${realmId}/g/${group.id}/data/**`, permission: 'WRITE' },
        { pattern: `/${realmId}/admin/nodes`, permission: 'READ' },
      ],
    })
    await store.assignRole(role.id, user.id)
    await waitFor(
      'the role works on node D',
      async () => (await d.rest('GET', '/v1/nodes', undefined, token)).status === 200,
    )
    await waitFor(
      'the access key may create a bucket on D',
      async () => (await s3Code(s3.send(new CreateBucketCommand({ Bucket: 'carol-data' })))) === 'OK',
    )
    expect(
      await s3Code(s3.send(new PutObjectCommand({ Bucket: 'carol-data', Key: 'a.txt', Body: 'hello' }))),
    ).toBe('OK')
    // A group named in a signed x-aruna-group header: her own works, another group's is refused.
    const inGroup = async (bucket: string, groupId: string) => {
      const client = await d.s3Client(key.body)
      client.middlewareStack.add(
        (next) => async (args) => {
          ;(args.request as { headers: Record<string, string> }).headers['x-aruna-group'] = groupId
          return next(args)
        },
        { step: 'build' },
      )
      try {
        return await s3Code(client.send(new CreateBucketCommand({ Bucket: bucket })))
      } finally {
        client.destroy()
      }
    }
    const others = (await store.listGroups()).find((g) => g.name === 'default')
    if (!others) throw new Error('no default group')
    expect(await inGroup('carol-squat', others.id)).toBe('AccessDenied')
    expect(await inGroup('carol-squat', 'G/../other')).toBe('InvalidArgument')
    expect(await inGroup('carol-named', group.id)).toBe('OK')

    // Revoked on B: refused everywhere within 5 s.
    const storeB = b.node.federation?.store
    if (!storeB) throw new Error('node B is not running')
    await waitFor('node B knows the role', async () =>
      (await storeB.getRole(role.id)).members.includes(user.id),
    )
    await storeB.revokeRole(role.id, user.id)
    const revokedAt = Date.now()
    for (const node of cluster.nodes) {
      await waitFor(
        `node ${node.index} refuses the revoked role`,
        async () => (await node.rest('GET', '/v1/nodes', undefined, token)).status === 403,
        5000,
      )
    }
    await waitFor(
      'the access key is refused on D',
      async () =>
        (await s3Code(s3.send(new PutObjectCommand({ Bucket: 'carol-data', Key: 'b.txt', Body: 'x' })))) ===
        'AccessDenied',
      5000,
    )
    expect(Date.now() - revokedAt).toBeLessThan(5000)
    s3.destroy()
    // D's metrics count its S3 requests per operation: created buckets, refused writes.
    const metrics = parseExposition(await (await fetch(`${d.restUrl}/metrics`)).text())
    const requests = 'aruna_s3_requests_total'
    expect(sampleSum(metrics, requests, requests, { operation: 'CreateBucket' })).toBeGreaterThanOrEqual(2)
    expect(
      sampleSum(metrics, requests, requests, { operation: 'PutObject', status: '403' }),
    ).toBeGreaterThanOrEqual(1)
    const duration = 'aruna_s3_request_duration_seconds'
    expect(
      sampleSum(metrics, duration, `${duration}_count`, { operation: 'PutObject' }),
    ).toBeGreaterThanOrEqual(2)
  })

  it('serves metadata through any node: made on A, read and edited on E, concurrent edits on A and E both kept everywhere, and seen live on C', async () => {
    const [a, , c, , e] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode, ClusterNode, ClusterNode]
    const group = (await a.rest<{ id: string }>('POST', '/v1/groups', { name: 'metadata' })).body.id
    const events = await subscribe(c, `/v1/events?group=${group}`)
    try {
      const made = await a.rest<{ resourceId: string }>('POST', '/v1/resources', {
        group,
        name: 'Sea ice',
        description: 'made on A',
      })
      expect(made.status).toBe(201)
      const id = made.body.resourceId
      await waitFor(
        'E reads the resource made on A',
        async () => (await e.rest('GET', `/v1/resources/${id}`)).status === 200,
      )
      const edit = (node: ClusterNode, property: string, value: unknown) =>
        node.rest('PATCH', `/v1/resources/${id}`, { edits: [{ op: 'set', entity: './', property, value }] })
      const [fromA, fromE] = await Promise.all([
        edit(a, 'keywords', ['from A']),
        edit(e, 'alternateName', 'from E'),
      ])
      expect([fromA.status, fromE.status]).toEqual([200, 200])
      const rootOn = async (node: ClusterNode) => {
        const got = await node.rest<{ crate: { '@graph': Record<string, unknown>[] } }>(
          'GET',
          `/v1/resources/${id}`,
        )
        return got.body.crate['@graph'].find((entity) => entity['@id'] === './')
      }
      for (const node of cluster.nodes) {
        await waitFor(`node ${node.index} holds both edits`, async () => {
          const root = await rootOn(node)
          return JSON.stringify(root?.keywords) === '["from A"]' && root?.alternateName === 'from E'
        })
      }
      // The subscriber on C was told of the creation and of the edits (synced from A and E).
      await waitFor(
        'C streamed the creation and an update',
        () =>
          events.seen.some((event) => event.type === 'created' && event.resourceId === id) &&
          events.seen.some((event) => event.type === 'updated' && event.resourceId === id),
      )
      expect(
        events.seen.filter((event) => event.resourceId === id).every((event) => event.origin === 'remote'),
      ).toBe(true)
      // C's metrics count the changes that arrived by sync, and how long they took to arrive.
      const metrics = parseExposition(await (await fetch(`${c.restUrl}/metrics`)).text())
      const metric = 'aruna_metadata_changes_total'
      expect(
        sampleSum(metrics, metric, metric, { origin: 'remote', type: 'updated' }),
      ).toBeGreaterThanOrEqual(1)
      const lag = 'aruna_metadata_sync_lag_seconds'
      await waitFor('C measured a sync lag', async () => {
        const now = parseExposition(await (await fetch(`${c.restUrl}/metrics`)).text())
        return sampleSum(now, lag, `${lag}_count`) >= 1
      })
      // Every node lists the same history: the creation and both edits.
      const history = await c.rest<{ changes: { message: string }[] }>('GET', `/v1/resources/${id}/history`)
      expect(history.body.changes).toHaveLength(3)
    } finally {
      events.close()
    }
  })

  it('keeps answering while a node is stopped, and the node catches up when it restarts', async () => {
    const c = cluster.node(2)
    await c.stop()
    const others = cluster.nodes.filter((n) => n !== c)
    for (const node of others) {
      await waitFor(
        `node ${node.index} sees node 2 gone`,
        () => !(node.node.federation?.membership.liveNodes() ?? []).includes(c.nodeId),
      )
      expect((await node.rest('GET', '/v1/nodes')).status).toBe(200)
    }
    const store = cluster.node(0).node.federation?.store
    if (!store) throw new Error('node 0 is not running')
    const made = await store.createGroup({ name: 'made-while-down' })
    await c.restart()
    await waitFor('the restarted node has the group made while it was down', async () => {
      const groups = (await c.node.federation?.store.listGroups()) ?? []
      return groups.some((g) => g.id === made.id)
    })
    await waitFor('node 0 sees node 2 live again', () =>
      (cluster.node(0).node.federation?.membership.liveNodes() ?? []).includes(c.nodeId),
    )
  }, 60_000)

  it('notices a killed node by liveness, keeps answering, and takes it back when it restarts', async () => {
    const victim = cluster.node(3)
    await victim.kill()
    for (const node of cluster.nodes.filter((n) => n !== victim)) {
      await waitFor(
        `node ${node.index} finds node 3 unreachable`,
        () => !(node.node.federation?.membership.liveNodes() ?? []).includes(victim.nodeId),
      )
      expect((await node.rest('GET', '/v1/me')).status).toBe(200)
    }
    await victim.restart()
    await waitFor('node 3 is live everywhere again', () =>
      cluster.nodes.every((n) => (n.node.federation?.membership.liveNodes() ?? []).includes(victim.nodeId)),
    )
  }, 60_000)

  it('lets each side of a partition work on its own and converge when it heals', async () => {
    const sideA = [0, 1, 4]
    const sideB = [2, 3]
    cluster.partition(sideA, sideB)
    try {
      for (const i of sideB) {
        await waitFor(`node ${i} is cut off from side A`, () => {
          const peers = cluster.node(i).node.federation?.network.peers() ?? []
          return sideA.every((a) => !peers.includes(cluster.node(a).nodeId))
        })
      }
      const onA = await cluster.node(0).node.federation?.store.createGroup({ name: 'made-on-side-a' })
      const onB = await cluster.node(2).node.federation?.store.createGroup({ name: 'made-on-side-b' })
      if (!onA || !onB) throw new Error('nodes not running')
      await waitFor('side B has its own group on both of its nodes', async () =>
        ((await cluster.node(3).node.federation?.store.listGroups()) ?? []).some((g) => g.id === onB.id),
      )
      // No connection crosses the partition, so side B cannot have side A's group.
      expect(
        ((await cluster.node(3).node.federation?.store.listGroups()) ?? []).some((g) => g.id === onA.id),
      ).toBe(false)
    } finally {
      cluster.heal()
    }
    for (const node of cluster.nodes) {
      await waitFor(`node ${node.index} has both sides' groups`, async () => {
        const groups = (await node.node.federation?.store.listGroups()) ?? []
        return ['made-on-side-a', 'made-on-side-b'].every((name) => groups.some((g) => g.name === name))
      })
    }
  }, 60_000)

  it('disconnects a removed node everywhere and refuses it on fresh connections', async () => {
    const removed = cluster.node(4)
    const id = removed.nodeId
    const answer = await cluster.node(1).rest('DELETE', `/v1/nodes/${id}`)
    expect(answer.status).toBe(204)
    for (const node of cluster.nodes.slice(0, 4)) {
      await waitFor(
        `node ${node.index} drops the removed node`,
        () => !(node.node.federation?.network.peers() ?? []).includes(id),
      )
    }
    // Its delegation is still within its validity, but a fresh start is refused by everyone.
    await removed.stop()
    // Either it learnt of its removal and will not start, or it starts and `start` has already dialled
    // its bootstrap peers (start waits for those attempts), who refused it.
    await removed.restart().catch(() => {})
    for (const node of cluster.nodes.slice(0, 4)) {
      expect(node.node.federation?.network.peers() ?? []).not.toContain(id)
    }
    expect(removed.node.federation?.network.peers() ?? []).toEqual([])
  }, 60_000)
})
