import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2pNetwork } from '../src/index.js'
import { createTestNode, waitFor } from '../src/testing/libp2p-cluster.js'
import { createTestRealm } from '../src/testing/realm.js'

let networks: Libp2pNetwork[] = []

afterEach(async () => {
  await Promise.all(networks.map((node) => node.stop()))
  networks = []
})

describe('connect', () => {
  it('dials realm members the layer above learnt of, without waiting for DHT discovery', async () => {
    const realm = createTestRealm()
    const a = await createTestNode(realm, { transports: ['tcp'] })
    const b = await createTestNode(realm, { transports: ['tcp'] })
    networks.push(a, b)
    await a.start()
    await b.start()
    expect(a.peers()).toEqual([])
    await a.connect([...b.multiaddrs, '/not/a/multiaddr', ...a.multiaddrs])
    await waitFor(
      () => a.peers().includes(b.peerId) && b.peers().includes(a.peerId),
      10_000,
      () => `a sees ${a.peers().join()}, b sees ${b.peers().join()}`,
    )
    // Live peers are not dialled again, and a stopped network ignores the call.
    await a.connect(b.multiaddrs)
    expect(a.peers()).toEqual([b.peerId])
    await b.stop()
    await b.connect(a.multiaddrs)
    expect(b.peers()).toEqual([])
  })

  it('retries its bootstrap peers while it has none: a peer that was down at start is reached later', async () => {
    const realm = createTestRealm()
    const a = await createTestNode(realm, { transports: ['tcp'] })
    networks.push(a)
    await a.start()
    const address = a.multiaddrs
    await a.stop()
    const b = await createTestNode(realm, {
      transports: ['tcp'],
      bootstrap: address,
      discoveryIntervalMs: 200,
    })
    networks.push(b)
    await b.start() // a is down: the bootstrap dial fails
    expect(b.peers()).toEqual([])
    await a.start() // on the same port (kept across stop/start)
    await waitFor(
      () => b.peers().includes(a.peerId),
      10_000,
      () => `b sees ${b.peers().join() || 'nobody'}`,
    )
  })
})
