import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2pNetwork, TransportName } from '../src/index.js'
import { ECHO, echoHandler, nextEvent } from '../src/testing/index.js'
import {
  createLibp2pCluster,
  createTestNode,
  type Libp2pCluster,
  TEST_NODE_SETTINGS,
  waitFor,
} from '../src/testing/libp2p-cluster.js'
import { createTestRealm } from '../src/testing/realm.js'

const echo = (text: string) => ({ kind: 'echo' as const, text, body: new Uint8Array(0) })

let clusters: Libp2pCluster[] = []
let extra: Libp2pNetwork[] = []

afterEach(async () => {
  await Promise.all([...clusters.map((cluster) => cluster.stop()), ...extra.map((node) => node.stop())])
  clusters = []
  extra = []
})

async function cluster(options: Parameters<typeof createLibp2pCluster>[0]): Promise<Libp2pNetwork[]> {
  const created = await createLibp2pCluster(options)
  clusters.push(created)
  return created.nodes
}

function at(nodes: Libp2pNetwork[], index: number): Libp2pNetwork {
  const node = nodes[index]
  if (node === undefined) throw new Error(`no node ${index}`)
  return node
}

describe.each(['tcp', 'quic'] satisfies TransportName[])('discovery over %s', (transport) => {
  it('lets 5 nodes, each bootstrapped only from the first, find every other through the DHT', {
    timeout: 30_000,
  }, async () => {
    const realm = createTestRealm()
    const first = await createTestNode(realm, { transports: [transport] })
    const nodes: Libp2pNetwork[] = [first]
    extra = nodes
    await first.start()
    for (let i = 1; i < 5; i++) {
      nodes.push(await createTestNode(realm, { transports: [transport], bootstrap: first.multiaddrs }))
    }
    // Started together: none can have learnt of the others from the first at its own start.
    await Promise.all(nodes.slice(1).map((node) => node.start()))
    await waitFor(
      () => nodes.every((node) => node.peers().length === 4),
      20_000,
      () => `peers seen: ${nodes.map((node) => node.peers().length).join(', ')}`,
    )
    const last = at(nodes, 4)
    last.handle(ECHO, echoHandler())
    expect((await at(nodes, 1).request(last.peerId, ECHO, echo('found you'))).text).toBe('found you')
  })

  it('reports a peer that crashed unreachable within the liveness timeout', { timeout: 15_000 }, async () => {
    const nodes = await cluster({ nodes: 2, transports: [transport] })
    const [a, b] = [at(nodes, 0), at(nodes, 1)]
    const gone = nextEvent(a, 'peer:unreachable', b.peerId, 10_000)
    const crashed = performance.now()
    // A crash: libp2p goes away under the node, with no goodbye.
    await b.libp2p?.stop()
    await gone
    expect(performance.now() - crashed).toBeLessThan(
      TEST_NODE_SETTINGS.livenessTimeoutMs + TEST_NODE_SETTINGS.pingIntervalMs + 500,
    )
    expect(a.peers()).toEqual([])
  })

  it('reports a stopped node gone at once, with peer:leave', async () => {
    const nodes = await cluster({ nodes: 2, transports: [transport] })
    const [a, b] = [at(nodes, 0), at(nodes, 1)]
    const left = nextEvent(a, 'peer:leave', b.peerId, 2_000)
    const stopped = performance.now()
    await b.stop()
    await left
    expect(performance.now() - stopped).toBeLessThan(TEST_NODE_SETTINGS.livenessTimeoutMs)
  })
})

describe('liveness', () => {
  it('reports a live peer that stops answering pings unreachable, and has it join again once it answers', {
    timeout: 20_000,
  }, async () => {
    const nodes = await cluster({ nodes: 2, transports: ['tcp'] })
    const [a, b] = [at(nodes, 0), at(nodes, 1)]
    const libp2p = b.libp2p
    if (libp2p === undefined) throw new Error('b is not running')
    const ping = libp2p.getProtocols().find((protocol) => protocol.includes('/ping/'))
    if (ping === undefined) throw new Error('no ping protocol')
    await libp2p.unhandle(ping)
    await libp2p.handle(ping, () => {}) // accepts pings, never answers them
    const silent = performance.now()
    await nextEvent(a, 'peer:unreachable', b.peerId, 10_000)
    const elapsed = performance.now() - silent
    expect(elapsed).toBeGreaterThan(TEST_NODE_SETTINGS.livenessTimeoutMs - TEST_NODE_SETTINGS.pingIntervalMs)
    expect(elapsed).toBeLessThan(
      TEST_NODE_SETTINGS.livenessTimeoutMs + 2 * TEST_NODE_SETTINGS.pingIntervalMs + 500,
    )
    expect(a.peers()).not.toContain(b.peerId)
    await waitFor(
      () => a.peers().includes(b.peerId),
      10_000,
      () => 'b did not join again',
    )
  })

  it('reconnects to the peers it knew when it starts again on the same ports', {
    timeout: 20_000,
  }, async () => {
    const nodes = await cluster({ nodes: 3, transports: ['tcp', 'quic'] })
    const [a, b, c] = [at(nodes, 0), at(nodes, 1), at(nodes, 2)]
    const addresses = [...a.multiaddrs].sort()
    await a.stop()
    expect(a.multiaddrs).toEqual([])
    const joined = [nextEvent(b, 'peer:join', a.peerId), nextEvent(c, 'peer:join', a.peerId)]
    await a.start()
    await Promise.all(joined)
    expect([...a.multiaddrs].sort()).toEqual(addresses)
    expect([...a.peers()].sort()).toEqual([b.peerId, c.peerId].sort())
  })
})
