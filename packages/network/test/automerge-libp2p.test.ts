import '@automerge/automerge-repo'
import { runNetworkAdapterTests } from '@automerge/automerge-repo/helpers/tests/network-adapter-tests.js'
import { describe } from 'vitest'
import { AutomergeNetworkAdapter } from '../src/index.js'
import { createLibp2pCluster } from '../src/testing/libp2p-cluster.js'

// The same acceptance tests as over the memory network, on real libp2p nodes on loopback: the
// adapter only sees the `Network` port, so this checks the port's streams behave alike.
describe('AutomergeNetworkAdapter over libp2p', () => {
  runNetworkAdapterTests(async () => {
    const cluster = await createLibp2pCluster({ nodes: 3, transports: ['tcp'] })
    const adapters = cluster.nodes.map((node) => new AutomergeNetworkAdapter(node))
    const [a, b, c] = adapters
    if (!a || !b || !c) throw new Error('three adapters expected')
    return {
      adapters: [a, b, c],
      teardown: () => {
        for (const adapter of adapters) adapter.disconnect()
        void cluster.stop()
      },
    }
  }, 'libp2p over tcp, all to all')
})
