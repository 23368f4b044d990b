import { type PeerId, Repo } from '@automerge/automerge-repo'
import { runNetworkAdapterTests } from '@automerge/automerge-repo/helpers/tests/network-adapter-tests.js'
import { describe, expect, it } from 'vitest'
import { InProcessSyncNetwork } from '../src/index.js'

describe('InProcessSyncNetwork', () => {
  runNetworkAdapterTests(async () => {
    const network = new InProcessSyncNetwork()
    return { adapters: [network.adapter(), network.adapter(), network.adapter()] }
  }, 'InProcessSyncNetwork')

  const until = async (check: () => boolean): Promise<void> => {
    for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(check()).toBe(true)
  }

  it('holds messages back while paused and delivers them, in order, on resume', async () => {
    const network = new InProcessSyncNetwork()
    const alice = new Repo({ network: [network.adapter()], peerId: 'alice' as PeerId })
    const bob = new Repo({ network: [network.adapter()], peerId: 'bob' as PeerId })
    await until(() => alice.peers.length === 1 && bob.peers.length === 1)
    const handle = alice.create<{ n: number }>({ n: 0 })
    const seen = await bob.find<{ n: number }>(handle.url)
    network.pause()
    for (let n = 1; n <= 3; n++) handle.change((doc) => (doc.n = n))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seen.doc().n).toBe(0)
    network.resume()
    await until(() => seen.doc().n === 3)
  })

  it('tells the others when a peer leaves, and lets it come back', async () => {
    const network = new InProcessSyncNetwork()
    const adapter = network.adapter()
    const alice = new Repo({ network: [adapter], peerId: 'alice' as PeerId })
    const bob = new Repo({ network: [network.adapter()], peerId: 'bob' as PeerId })
    await until(() => bob.peers.length === 1)
    expect(network.peers.sort()).toEqual(['alice', 'bob'])
    adapter.disconnect()
    adapter.disconnect()
    await until(() => bob.peers.length === 0)
    expect(network.peers).toEqual(['bob'])
    adapter.send({ type: 'sync', senderId: 'alice' as PeerId, targetId: 'bob' as PeerId })
    alice.networkSubsystem.reconnect()
    await until(() => bob.peers.length === 1)
  })
})
